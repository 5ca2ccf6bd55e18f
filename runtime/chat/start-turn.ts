/**
 * `send` and `regenerate`: the quick part that runs in the route handler (well inside API Gateway's 29 s
 * integration timeout). It validates, applies quotas, writes the user turn and an assistant turn in status
 * `streaming`, announces `turn.started` and hands the generation to the worker (asynchronous Lambda invoke).
 */
import type { RegenerateFrame, SendFrame, TurnStartedFrame } from "../protocol";
import { ChatError, notFound } from "./errors";
import { isUuid, newSessionId, newTurnId, newTurnIds, sessionOfTurn } from "./ids";
import { admit, holdsConnectionSlot, releaseAdmission, type Caller, type QuotaSettings } from "./quotas";
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
import type { ContextReach } from "./context-reach";
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
  /** How far back each session's last context reached, in this container (sizes the next context Query). */
  contextReach?: ContextReach;
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

/**
 * Posts `turn.started`. The turn is written by then, so a post that fails (after the sender's retries) must not stop
 * it: the answer is still handed to the worker and saved, and the client reads it with `resume` or `history`. Were
 * the failure thrown instead, the turn would stay `streaming` with no worker until it went stale.
 */
export async function announce(deps: Pick<StartTurnDeps, "sender" | "log">, connectionId: string, frame: TurnStartedFrame): Promise<void> {
  try {
    await deps.sender.post(connectionId, frame);
  } catch (error) {
    deps.log.warn("turn.started not delivered; the answer goes on", { connectionId, turnId: frame.turnId, error: error instanceof Error ? error.name : "unknown" });
  }
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
    ...(holdsConnectionSlot(deps.settings) ? {} : { connectionSlot: false as const }),
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

/** `attempt`: 1 when the send runs again because the original of a duplicate gave its claim back. */
export async function sendMessage(frame: SendFrame, caller: Caller, deps: StartTurnDeps, attempt = 0): Promise<void> {
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
  // owner check, which also moves it to the top of the list (one conditional write; a send refused further on puts it
  // back), the quotas, and the claim on clientMessageId (a conditional put). A send refused by a check gives
  // back what the others took, its claim included. A duplicate (client retry, reconnect) gives back the quota it took
  // and re-announces the turn its original started; it never starts a second one. The model context (the session's
  // turns before this message) is read beside all of that and goes in the job; it is used only once the session is
  // known to be the caller's and the turn is written.
  const existing = !isNewSession && isUuid(sessionId);
  const sid = sessionId;
  const context = existing
    ? prefetch(() => contextBefore(deps.history, { sessionId: sid, beforeTurnId: userTurnId }, frame.text, deps.settings.contextBudgetTokens, deps.contextReach), deps, assistantTurnId)
    : Promise.resolve([{ role: "user" as const, text: frame.text }]);
  const [owned, admission, claimed] = await Promise.allSettled([
    existing ? deps.history.touchOwnSession(sessionId, connection.userId, at) : Promise.resolve(isNewSession),
    admit(deps, caller, assistantTurnId, ids),
    deps.ledger.claim({ userId: connection.userId, clientMessageId, sessionId, userTurnId, assistantTurnId, createdAt: at }),
  ]);
  const ours = claimed.status === "fulfilled" && claimed.value === "claimed";
  /** Gives back what this send took (the slots, the counted message, the claim, the session's place) when it starts nothing. */
  const giveBack = async () => {
    await Promise.allSettled([
      admission.status === "fulfilled" ? releaseAdmission(deps, caller, assistantTurnId, true) : undefined,
      ours ? deps.ledger.releaseClaim(connection.userId, clientMessageId) : undefined,
      existing && owned.status === "fulfilled" && typeof owned.value === "object" ? deps.history.untouchSession(sid, at, owned.value) : undefined,
    ]);
  };
  if (claimed.status === "fulfilled" && claimed.value !== "claimed") {
    const original = claimed.value;
    deps.log.info("duplicate clientMessageId; re-announcing its turn", { connectionId: connection.connectionId, turnId: original.assistantTurnId });
    await giveBack();
    // The original may still be running its checks: it either writes its turn or gives its claim back.
    const outcome = await originalOutcome(deps, original);
    if (outcome !== "released") return reannounce(original);
    if (attempt === 0) return sendMessage(frame, caller, deps, 1);
    throw new ChatError("busy", "that message is being sent on another connection; try again", ids);
  }
  const refusal =
    owned.status === "rejected"
      ? owned.reason
      : !owned.value
        ? notFound("session", ids)
        : admission.status === "rejected"
          ? admission.reason
          : claimed.status === "rejected"
            ? claimed.reason
            : undefined;
  if (refusal !== undefined) {
    await giveBack();
    throw refusal;
  }

  const question = userTurn({ sessionId, turnId: userTurnId, userId: connection.userId, text: frame.text, clientMessageId, at });
  const assistant = assistantTurn({ sessionId, turnId: assistantTurnId, userId: connection.userId, parentTurnId: userTurnId, clientMessageId, at }, deps, caller);
  const title = summaryTitle(frame.text);
  // One call for the exchange's items; a new session's item (its owner record) goes with them.
  const newSession = isNewSession ? { sessionId, userId: connection.userId, title, createdAt: at, updatedAt: at } : undefined;
  const written = await deps.history.putNewTurns([question, assistant], newSession).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  if (written) {
    // Nothing was started: undo what was written and free the clientMessageId so the client's retry can start it.
    await Promise.allSettled([
      deps.history.deleteTurn(sid, userTurnId),
      deps.history.deleteTurn(sid, assistantTurnId),
      deps.ledger.releaseClaim(connection.userId, clientMessageId),
      releaseAdmission(deps, caller, assistantTurnId),
    ]);
    throw written.error;
  }

  await announce(deps, connection.connectionId, started(sessionId, assistantTurnId, userTurnId, clientMessageId, deps.settings.region));
  await dispatch(deps, caller, assistant, clientMessageId, context);
}

/** How long a duplicate send waits for its original to write its turn or give its claim back (a handler's checks take milliseconds). */
const ORIGINAL_WAIT_MS = 3_000;
const ORIGINAL_POLL_MS = 100;

/**
 * What became of the send that claimed a clientMessageId: `written` once its assistant turn exists, `released` when it
 * was refused and gave the claim back (the duplicate then starts the answer itself), `unknown` after the wait (it is
 * re-announced; a turn that never appears ends as failed once stale, read.ts).
 */
async function originalOutcome(deps: StartTurnDeps, claim: MessageClaim): Promise<"written" | "released" | "unknown"> {
  const deadline = deps.clock.now() + ORIGINAL_WAIT_MS;
  // The claim was read a moment ago (it is how this send knows it is a duplicate): the turn is looked at first.
  for (let wait = false; ; wait = true) {
    if (wait) {
      await deps.clock.sleep(ORIGINAL_POLL_MS);
      const still = await deps.ledger.getClaim(claim.userId, claim.clientMessageId);
      if (!still || still.assistantTurnId !== claim.assistantTurnId) return "released";
    }
    if (await deps.history.getTurn(claim.sessionId, claim.assistantTurnId)) return "written";
    if (deps.clock.now() >= deadline) return "unknown";
  }
}

/** Moves the session to the top of the list; a failure only leaves the order stale, so it is logged, not thrown. */
export async function touch(deps: StartTurnDeps, sessionId: string, at: string, turnId: string): Promise<void> {
  await deps.history.touchSession(sessionId, at).catch((error: unknown) =>
    deps.log.warn("could not update the session's last activity", { turnId, error: error instanceof Error ? error.name : "unknown" }),
  );
}

export async function regenerate(frame: RegenerateFrame, caller: Caller, deps: StartTurnDeps): Promise<void> {
  const { connection } = caller;
  // A refusal names no turn: an error naming a turn reads as that turn's end (as for `stop` and `continue`), and the
  // answer asked about may be streaming here or in another tab. Only a failure after `turn.started` names the new turn.
  const ids = {};
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
    // A refusal from the store (the answer was dropped, or started streaming meanwhile) names no turn, as those above.
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
