/**
 * The conversation sent to the model with a prompt: the newest exchanges that fit the context budget, oldest
 * first, ending with the user message being answered. Only what the user saw is used: an exchange is a user turn
 * and its current (not superseded) answer that ended `complete` or `stopped` with text; failed, blocked or
 * still-streaming answers, their user messages and the turns an edit dropped are left out, so roles alternate user/assistant as the
 * Bedrock messages APIs require.
 */
import type { ContextReach } from "./context-reach";
import type { ContextTurn, HistoryStore, ModelMessage } from "./ports";

/** Tokens a message costs beyond its text (role and turn markers). */
const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * An upper bound on the tokens a text costs: its UTF-8 length in bytes (plus the message overhead). The models'
 * tokenizers are byte-level BPE (with byte fallback), so every token covers at least one byte of UTF-8 and a text
 * never takes more tokens than it has bytes, whatever the script: Chinese, Japanese or emoji (3-4 bytes a
 * character, often a token each) are counted at least as high as they cost. Characters per token undercounts
 * them about 4 times. The price is that English (about 4 bytes a token) is overcounted, so the same budget carries
 * less English history; that errs toward cost, which is what the budget is for.
 */
export function estimateTokens(text: string): number {
  return utf8Bytes(text) + MESSAGE_OVERHEAD_TOKENS;
}

/** UTF-8 length without Node's Buffer (this module also runs where only the standard library exists). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // a surrogate pair: one code point outside the BMP (most emoji)
      i++;
    } else bytes += 3; // the rest of the BMP, and a lone surrogate (encoded as U+FFFD, 3 bytes)
  }
  return bytes;
}

/** How many turns the context query reads at most, whatever the budget (bounds latency and read cost). */
export const MAX_CONTEXT_TURNS = 400;

function usableAnswer(turn: ContextTurn): boolean {
  return (
    turn.role === "assistant" &&
    turn.supersededBy === undefined &&
    (turn.status === "complete" || turn.status === "stopped") &&
    turn.text.length > 0
  );
}

/**
 * The messages for the model, read with one Query that also returns the user turn being answered (so the worker
 * needs no separate read of it); undefined when that turn does not exist.
 */
export async function buildContext(
  history: HistoryStore,
  userTurn: { sessionId: string; turnId: string },
  budgetTokens: number,
): Promise<ModelMessage[] | undefined> {
  const turns = history.turnsUpTo(userTurn.sessionId, userTurn.turnId, MAX_CONTEXT_TURNS)[Symbol.asyncIterator]();
  const first = await turns.next();
  if (first.done || first.value.turnId !== userTurn.turnId || first.value.role !== "user") {
    await turns.return?.();
    return undefined;
  }
  return (await withHistory(first.value.text, { [Symbol.asyncIterator]: () => turns }, budgetTokens)).messages;
}

/**
 * The messages for a prompt that is not stored yet (the message handler builds them while it writes the turn, and
 * carries them to the worker in the job): the turns before `beforeTurnId`, then the prompt. `reach` sizes the
 * Query's first page from the session's last context and learns this one's.
 */
export async function contextBefore(
  history: HistoryStore,
  at: { sessionId: string; beforeTurnId: string },
  prompt: string,
  budgetTokens: number,
  reach?: ContextReach,
): Promise<ModelMessage[]> {
  const earlier = history.turnsUpTo(at.sessionId, at.beforeTurnId, MAX_CONTEXT_TURNS, reach?.firstPage(at.sessionId));
  const { messages, read } = await withHistory(prompt, earlier, budgetTokens, at.beforeTurnId);
  reach?.record(at.sessionId, read);
  return messages;
}

/**
 * The newest usable exchanges of `turns` (newest first) that fit the budget beside the prompt, oldest first; `read`:
 * how many turns were looked at before the budget was spent or the turns ended.
 */
async function withHistory(prompt: string, turns: AsyncIterable<ContextTurn>, budgetTokens: number, skip?: string): Promise<{ messages: ModelMessage[]; read: number }> {
  let used = estimateTokens(prompt);
  let read = 0;
  const exchanges: ModelMessage[][] = [];
  const answers = new Map<string, ContextTurn>();
  for await (const turn of turns) {
    read++;
    if (turn.turnId === skip) continue;
    // An edit dropped it (and an answer whose user turn was dropped is never paired below).
    if (turn.droppedBy !== undefined) continue;
    if (turn.role === "assistant") {
      // Newest first: the first usable answer seen for a user turn is its latest.
      if (usableAnswer(turn) && turn.parentTurnId && !answers.has(turn.parentTurnId)) answers.set(turn.parentTurnId, turn);
      continue;
    }
    const answer = answers.get(turn.turnId);
    if (!answer) continue;
    const cost = estimateTokens(turn.text) + estimateTokens(answer.text);
    if (used + cost > budgetTokens) break;
    used += cost;
    exchanges.push([
      { role: "user", text: turn.text },
      { role: "assistant", text: answer.text },
    ]);
  }
  return { messages: [...exchanges.reverse().flat(), { role: "user", text: prompt }], read };
}

/**
 * `continue`: the partial answer as the last (assistant) message, which the model continues (prefill). Trailing
 * white space is left out: "The prefill content cannot end with trailing whitespace" (Anthropic, "Prefill Claude's
 * response"; the API answers 400 "final assistant content cannot end with trailing whitespace").
 */
export function withPrefill(messages: ModelMessage[], partial: string): ModelMessage[] {
  const prefill = partial.trimEnd();
  return prefill.length === 0 ? messages : [...messages, { role: "assistant", text: prefill }];
}
