/**
 * `send` and `regenerate`: the quick part that runs in the route handler (well inside API Gateway's 29 s
 * integration timeout). It validates, applies quotas, writes the user turn and an assistant turn in status
 * `streaming`, announces `turn.started` and hands the generation to the worker (asynchronous Lambda invoke).
 */
import type { RegenerateFrame, SendFrame, TurnStartedFrame } from "../protocol";
import { ChatError, notFound } from "./errors";
import { isUuid, newSessionId, newTurnId, newTurnIds, sessionOfTurn } from "./ids";
import { admit, releaseAdmission, type Caller, type QuotaSettings } from "./quotas";
import { isStaleStreaming } from "./liveness";
import type {
  Clock,
  ConnectionSender,
  ConnectionStore,
  GenerationQueue,
  HistoryStore,
  Log,
  MessageClaim,
  ModelMessage,
  OperatorSwitch,
  Turn,
  UserLedger,
} from "./ports";
import { buildContext, contextBefore, estimateTokens } from "./context";
import { withContext } from "./job-size";
import { summaryTitle } from "./titles";

export interface StartTurnDeps {
  history: HistoryStore;
  ledger: UserLedger;
  connections: ConnectionStore;
  sender: ConnectionSender;
  queue: GenerationQueue;
  operator: OperatorSwitch;
  clock: Clock;
  log: Log;
  settings: QuotaSettings & {
    region: string;
    modelId: string;
    /** The context budget (estimated tokens): a message that alone exceeds it is refused with `too_large`. */
    contextBudgetTokens: number;
  };
}

export type { Caller };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function started(sessionId: string, turnId: string, userTurnId: string, clientMessageId: string, region: string): TurnStartedFrame {
  return { type: "turn.started", sessionId, turnId, clientMessageId, region, userTurnId };
}

async function announce(deps: StartTurnDeps, connectionId: string, frame: TurnStartedFrame): Promise<void> {
  await deps.sender.post(connectionId, frame);
}

/**
 * Reads the model context while the turn is admitted and written, so that the worker need not read it again before
 * the model call. A failed read only leaves the job without it (the worker then reads it), so it never fails the send.
 */
function prefetch(read: () => Promise<ModelMessage[] | undefined>, deps: StartTurnDeps, turnId: string): Promise<ModelMessage[] | undefined> {
  return read().catch((error: unknown) => {
    deps.log.warn("could not read the context for the job; the worker reads it", { turnId, error: error instanceof Error ? error.name : "unknown" });
    return undefined;
  });
}

/**
 * Hands the turn to the worker, with the model context when it was read and fits the job; when that fails the turn is
 * closed as an error so it never stays `streaming`.
 */
export async function dispatch(deps: StartTurnDeps, caller: Caller, assistant: Turn, clientMessageId: string, context?: Promise<ModelMessage[] | undefined>): Promise<void> {
  const job = {
    kind: "generate" as const,
    sessionId: assistant.sessionId,
    turnId: assistant.turnId,
    userTurnId: assistant.parentTurnId!,
    connectionId: caller.connection.connectionId,
    userId: caller.connection.userId,
    receivedAt: caller.receivedAt,
  };
  try {
    await deps.queue.enqueue(withContext(job, await context));
  } catch (error) {
    deps.log.error("could not invoke the worker", { connectionId: caller.connection.connectionId, turnId: assistant.turnId, error: error instanceof Error ? error.name : "unknown" });
    const now = iso(deps.clock.now());
    await deps.history
      .finishTurn(assistant.sessionId, assistant.turnId, { text: "", status: "error", stopReason: "error", usage: { inputTokens: 0, outputTokens: 0 }, ttftMs: null, updatedAt: now })
      .catch(() => undefined);
    await releaseAdmission(deps, caller, assistant.turnId);
    throw new ChatError("internal", "the answer could not be started", { turnId: assistant.turnId, clientMessageId });
  }
}

export function assistantTurn(base: { sessionId: string; turnId: string; userId: string; parentTurnId: string; clientMessageId: string; at: string }, deps: StartTurnDeps, caller: Caller): Turn {
  return {
    turnId: base.turnId,
    sessionId: base.sessionId,
    userId: base.userId,
    role: "assistant",
    text: "",
    status: "streaming",
    clientMessageId: base.clientMessageId,
    parentTurnId: base.parentTurnId,
    model: deps.settings.modelId,
    region: deps.settings.region,
    connectionId: caller.connection.connectionId,
    createdAt: base.at,
    updatedAt: base.at,
  };
}

/** The user's message as a turn (`replaces`: the user turn an `edit` replaces). */
export function userTurn(base: { sessionId: string; turnId: string; userId: string; text: string; clientMessageId: string; at: string; replaces?: string }): Turn {
  return {
    turnId: base.turnId,
    sessionId: base.sessionId,
    userId: base.userId,
    role: "user",
    text: base.text,
    status: "complete",
    clientMessageId: base.clientMessageId,
    ...(base.replaces !== undefined ? { replaces: base.replaces } : {}),
    createdAt: base.at,
    updatedAt: base.at,
  };
}

export async function sendMessage(frame: SendFrame, caller: Caller, deps: StartTurnDeps): Promise<void> {
  const { connection } = caller;
  const { clientMessageId } = frame;
  const ids = { clientMessageId };
  const reannounce = (claim: MessageClaim) =>
    announce(deps, connection.connectionId, started(claim.sessionId, claim.assistantTurnId, claim.userTurnId, clientMessageId, deps.settings.region));

  // The message alone must fit the context budget, or the model would get more than the budget allows.
  const promptTokens = estimateTokens(frame.text);
  if (promptTokens > deps.settings.contextBudgetTokens) {
    throw new ChatError("too_large", `the message is too long (about ${promptTokens} tokens; at most ${deps.settings.contextBudgetTokens})`, ids);
  }
  const now = deps.clock.now();
  const at = iso(now);
  let sessionId = frame.sessionId;
  const isNewSession = sessionId === undefined;
  sessionId ??= newSessionId();
  const [userTurnId, assistantTurnId] = newTurnIds(sessionId, now, 2) as [string, string];

  // Independent calls at once (the latency before the answer starts is their slowest, not their sum): the session's
  // owner and the quotas. Then the claim on clientMessageId (a conditional put): a duplicate (client retry,
  // reconnect) re-announces the turn it started and gives back the quota it took; it never starts a second one.
  // The model context (the session's turns before this message) is read beside all of that and goes in the job;
  // it is used only once the session is known to be the caller's and the turn is written.
  const existing = !isNewSession && isUuid(sessionId);
  const sid = sessionId;
  const context = existing
    ? prefetch(() => contextBefore(deps.history, { sessionId: sid, beforeTurnId: userTurnId }, frame.text, deps.settings.contextBudgetTokens), deps, assistantTurnId)
    : Promise.resolve([{ role: "user" as const, text: frame.text }]);
  const [session, admission] = await Promise.allSettled([
    existing ? deps.history.getSession(sessionId) : Promise.resolve(undefined),
    admit(deps, caller, assistantTurnId, ids),
  ]);
  const admitted = admission.status === "fulfilled";
  /** Gives back what admit took (the slot and the counted message) when this send starts nothing. */
  const giveBack = async () => {
    if (!admitted) return;
    await releaseAdmission(deps, caller, assistantTurnId, true);
  };
  const refusal =
    session.status === "rejected"
      ? session.reason
      : !isNewSession && (!session.value || session.value.userId !== connection.userId)
        ? notFound("session", ids)
        : undefined;
  if (refusal !== undefined) {
    await giveBack();
    throw refusal;
  }
  if (admission.status === "rejected") {
    // A duplicate of a message whose answer still holds the slot (or a concurrent duplicate holding the quota this
    // one needed) is a duplicate, not a refusal.
    const duplicate = admission.reason instanceof ChatError ? await deps.ledger.getClaim(connection.userId, clientMessageId) : undefined;
    if (duplicate) return reannounce(duplicate);
    throw admission.reason;
  }
  const claim = await deps.ledger.claim({ userId: connection.userId, clientMessageId, sessionId, userTurnId, assistantTurnId, createdAt: at }).catch(async (error: unknown) => {
    await giveBack();
    throw error;
  });
  if (claim !== "claimed") {
    deps.log.info("duplicate clientMessageId; re-announcing its turn", { connectionId: connection.connectionId, turnId: claim.assistantTurnId });
    await giveBack();
    return reannounce(claim);
  }

  const question = userTurn({ sessionId, turnId: userTurnId, userId: connection.userId, text: frame.text, clientMessageId, at });
  const assistant = assistantTurn({ sessionId, turnId: assistantTurnId, userId: connection.userId, parentTurnId: userTurnId, clientMessageId, at }, deps, caller);
  const title = summaryTitle(frame.text);
  // A new session's item is its owner record, so it is written with the turns; an existing session's last activity
  // (the order of the session list) is moved beside them too, so no store call follows the worker's start (where it
  // would compete with the worker's claim) and a failure of it only leaves the order stale.
  const writes = await Promise.allSettled([
    isNewSession ? deps.history.createSession({ sessionId, userId: connection.userId, title, createdAt: at, updatedAt: at }) : touch(deps, sessionId, at, assistantTurnId),
    deps.history.putTurn(question),
    deps.history.putTurn(assistant),
  ]);
  const failed = writes.find((w): w is PromiseRejectedResult => w.status === "rejected");
  if (failed) {
    // Nothing was started: undo what was written and free the clientMessageId so the client's retry can start it.
    await Promise.allSettled([
      deps.history.deleteTurn(sid, userTurnId),
      deps.history.deleteTurn(sid, assistantTurnId),
      deps.ledger.releaseClaim(connection.userId, clientMessageId),
      releaseAdmission(deps, caller, assistantTurnId),
    ]);
    throw failed.reason;
  }

  await announce(deps, connection.connectionId, started(sessionId, assistantTurnId, userTurnId, clientMessageId, deps.settings.region));
  await dispatch(deps, caller, assistant, clientMessageId, context);
}

/** Moves the session to the top of the list; a failure only leaves the order stale, so it is logged, not thrown. */
export async function touch(deps: StartTurnDeps, sessionId: string, at: string, turnId: string): Promise<void> {
  await deps.history.touchSession(sessionId, at).catch((error: unknown) =>
    deps.log.warn("could not update the session's last activity", { turnId, error: error instanceof Error ? error.name : "unknown" }),
  );
}

export async function regenerate(frame: RegenerateFrame, caller: Caller, deps: StartTurnDeps): Promise<void> {
  const { connection } = caller;
  const ids = { turnId: frame.turnId };
  const sessionId = sessionOfTurn(frame.turnId);
  const old = sessionId ? await deps.history.getTurn(sessionId, frame.turnId) : undefined;
  if (!sessionId || !old || old.userId !== connection.userId || old.role !== "assistant" || !old.parentTurnId || old.droppedBy) {
    throw notFound("turn", ids);
  }
  const reannounce = async (turnId: string) => {
    const replacement = await deps.history.getTurn(sessionId, turnId);
    if (!replacement) throw notFound("turn", ids);
    await announce(deps, connection.connectionId, started(sessionId, replacement.turnId, old.parentTurnId!, old.clientMessageId, deps.settings.region));
  };
  if (old.supersededBy) return reannounce(old.supersededBy);
  const now = deps.clock.now();
  if (old.status === "streaming") {
    if (!isStaleStreaming(old, now)) throw new ChatError("busy", "that answer is still being generated; stop it first", ids);
    // Its worker is long gone: close it so it can be replaced (a late worker then finds it closed and skips it).
    await deps.history.finishTurn(sessionId, old.turnId, { text: old.text, status: "error", stopReason: "error", usage: old.usage ?? { inputTokens: 0, outputTokens: 0 }, ttftMs: null, updatedAt: iso(now) });
  }

  const at = iso(now);
  const turnId = newTurnId(sessionId, now);
  // The context of the question answered anew, read beside the admission and the writes (see sendMessage).
  const question = { sessionId, turnId: old.parentTurnId };
  const context = prefetch(() => buildContext(deps.history, question, deps.settings.contextBudgetTokens), deps, turnId);
  await admit(deps, caller, turnId, ids);
  const assistant: Turn = {
    ...assistantTurn({ sessionId, turnId, userId: connection.userId, parentTurnId: old.parentTurnId, clientMessageId: old.clientMessageId, at }, deps, caller),
    supersedes: old.turnId,
  };
  let winner: string;
  try {
    await deps.history.putTurn(assistant);
    winner = await deps.history.supersede(sessionId, old.turnId, turnId, at);
  } catch (error) {
    await deps.history.deleteTurn(sessionId, turnId).catch(() => undefined);
    await releaseAdmission(deps, caller, turnId);
    throw error;
  }
  if (winner !== turnId) {
    // A concurrent regenerate of the same answer won: drop ours and point at theirs.
    await deps.history.deleteTurn(sessionId, turnId);
    await releaseAdmission(deps, caller, turnId);
    return reannounce(winner);
  }
  await announce(deps, connection.connectionId, started(sessionId, turnId, old.parentTurnId, old.clientMessageId, deps.settings.region));
  await dispatch(deps, caller, assistant, old.clientMessageId, context);
  await touch(deps, sessionId, at, turnId);
}
