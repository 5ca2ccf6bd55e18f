/**
 * The generation worker, invoked asynchronously (InvocationType Event) by the message handler with a
 * GenerationJob. After the turn is claimed, generateTurn closes it on every path; a failure to claim it (after
 * bounded retries) is thrown, so any async retry Lambda is configured with tries again (the claim makes a second
 * delivery harmless).
 */
import type { Context } from "aws-lambda";
import { generateTurn, type GenerateDeps, type GenerationOutcome } from "../chat/generate";
import type { GenerationJob, ModelMessage } from "../chat/ports";
import { generateDependencies } from "../composition/worker";

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

export function createWorkerHandler(deps: () => GenerateDeps) {
  return async (event: unknown, context: Pick<Context, "getRemainingTimeInMillis">): Promise<GenerationOutcome | { status: "rejected" }> => {
    const d = deps();
    const job = parseJob(event);
    if (!job) {
      d.log.error("worker received an invalid job");
      return { status: "rejected" };
    }
    return generateTurn(job, () => context.getRemainingTimeInMillis(), d);
  };
}

export const handler = createWorkerHandler(generateDependencies);
