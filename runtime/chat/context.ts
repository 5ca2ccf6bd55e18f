/**
 * The conversation sent to the model with a prompt: the newest exchanges that fit the context budget, oldest
 * first, ending with the user message being answered. Only what the user saw is used: an exchange is a user turn
 * and its current (not superseded) answer that ended `complete` or `stopped` with text; failed, blocked or
 * still-streaming answers and their user messages are left out, so roles alternate user/assistant as the
 * Bedrock messages APIs require.
 */
import type { HistoryStore, ModelMessage, Turn } from "./ports";

/** A rough, conservative token estimate (about 4 characters per token, plus per-message overhead). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4) + 4;
}

/** How many turns the context query reads at most, whatever the budget (bounds latency and read cost). */
export const MAX_CONTEXT_TURNS = 400;

function usableAnswer(turn: Turn): boolean {
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
  let prompt: ModelMessage | undefined;
  let used = 0;
  const exchanges: ModelMessage[][] = [];
  const answers = new Map<string, Turn>();

  for await (const turn of history.turnsUpTo(userTurn.sessionId, userTurn.turnId, MAX_CONTEXT_TURNS)) {
    if (turn.turnId === userTurn.turnId) {
      if (turn.role !== "user") return undefined;
      prompt = { role: "user", text: turn.text };
      used = estimateTokens(turn.text);
      continue;
    }
    if (!prompt) return undefined;
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
  return prompt && [...exchanges.reverse().flat(), prompt];
}
