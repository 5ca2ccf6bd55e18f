/** Reads a GenerationJob from what a worker was handed (a Lambda event, an SQS message body); undefined if malformed. */
import type { GenerationJob, ModelMessage } from "./ports";

export function parseJob(event: unknown): GenerationJob | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const e = event as Record<string, unknown>;
  const strings = ["sessionId", "turnId", "userTurnId", "connectionId", "userId"] as const;
  if (e.kind !== "generate" || strings.some((k) => typeof e[k] !== "string" || (e[k] as string).length === 0)) return undefined;
  if (typeof e.receivedAt !== "number") return undefined;
  const context = e.context === undefined ? undefined : parseContext(e.context);
  if (context === null) return undefined;
  return {
    kind: "generate",
    sessionId: e.sessionId as string,
    turnId: e.turnId as string,
    userTurnId: e.userTurnId as string,
    connectionId: e.connectionId as string,
    userId: e.userId as string,
    receivedAt: e.receivedAt,
    ...continuationOf(e.continuation),
    ...(e.connectionSlot === false ? { connectionSlot: false as const } : {}),
    ...(context ? { context } : {}),
  };
}

/** `continue` (runtime/chat/continue.ts): where the continued turn's deltas start. */
function continuationOf(value: unknown): Pick<GenerationJob, "continuation"> {
  const firstSeq = (value as { firstSeq?: unknown } | null | undefined)?.firstSeq;
  return typeof firstSeq === "number" && Number.isSafeInteger(firstSeq) && firstSeq >= 0 ? { continuation: { firstSeq } } : {};
}

/**
 * A carried context as the model APIs take it: user and assistant messages alternating, from a user message to the
 * user message answered, each with its text; null when it is anything else (the job is then refused, not guessed at).
 */
function parseContext(value: unknown): ModelMessage[] | null {
  if (!Array.isArray(value) || value.length % 2 !== 1) return null;
  const messages: ModelMessage[] = [];
  for (const [i, m] of value.entries()) {
    if (typeof m !== "object" || m === null) return null;
    const { role, text } = m as Record<string, unknown>;
    const expected = i % 2 === 0 ? "user" : "assistant";
    if (role !== expected || typeof text !== "string") return null;
    messages.push({ role: expected, text });
  }
  return messages;
}

/** An SQS message body: JSON text of a job. */
export function parseJobText(body: string | undefined): GenerationJob | undefined {
  if (body === undefined) return undefined;
  try {
    return parseJob(JSON.parse(body));
  } catch {
    return undefined;
  }
}
