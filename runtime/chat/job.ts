/** Reads a GenerationJob from what a worker was handed (a Lambda event, an SQS message body); undefined if malformed. */
import type { GenerationJob } from "./ports";

export function parseJob(event: unknown): GenerationJob | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const e = event as Record<string, unknown>;
  const strings = ["sessionId", "turnId", "userTurnId", "connectionId", "userId"] as const;
  if (e.kind !== "generate" || strings.some((k) => typeof e[k] !== "string" || (e[k] as string).length === 0)) return undefined;
  if (typeof e.receivedAt !== "number") return undefined;
  return {
    kind: "generate",
    sessionId: e.sessionId as string,
    turnId: e.turnId as string,
    userTurnId: e.userTurnId as string,
    connectionId: e.connectionId as string,
    userId: e.userId as string,
    receivedAt: e.receivedAt,
  };
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
