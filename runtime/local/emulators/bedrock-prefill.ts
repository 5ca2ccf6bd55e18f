/**
 * A request whose last message is the assistant's (a prefill, as `continue` sends: runtime/chat/continue.ts) asks
 * the model to go on from that text. The local model writes its answers deterministically per conversation and
 * attempt, so it finds the answer the prefill is the start of and writes the rest; a prefill it did not write (a
 * hand-made test) gets a new paragraph instead of a repeat of its beginning.
 */
export interface PromptMessage {
  role: string;
  text: string;
}

/** The conversation without a trailing assistant message, and that message's text (the prefill), if any. */
export function splitPrefill<M extends PromptMessage>(messages: M[]): { messages: M[]; prefill?: string } {
  const last = messages[messages.length - 1];
  return last?.role === "assistant" ? { messages: messages.slice(0, -1), prefill: last.text } : { messages };
}

/**
 * The text that continues `prefill`: the rest of the first of the answers (newest attempt first) that starts with
 * it, else a new paragraph of the newest answer.
 */
export function continuation(prefill: string, answers: (attempt: number) => string, attemptsMade: number): string {
  const start = prefill.trimEnd();
  for (let attempt = Math.max(0, attemptsMade - 1); attempt >= 0; attempt--) {
    const full = answers(attempt);
    if (full.startsWith(start) && full.length > start.length) return full.slice(start.length);
  }
  return `\n\n${answers(attemptsMade)}`;
}
