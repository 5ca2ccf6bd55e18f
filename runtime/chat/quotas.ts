/**
 * Admission of a new answer (`send`, `regenerate`): the operator's switch, then at once the per-user budgets kept
 * in the home region (messages per UTC minute, concurrent answers across all connections and regions, tokens per
 * UTC day) and the per-connection slot. On success the message is counted and both slots are held; a refusal
 * holds nothing and starts nothing.
 */
import { ChatError } from "./errors";
import { sessionOfTurn, turnCreatedAt } from "./ids";
import type { Connection, ConnectionStore, Clock, HistoryStore, Log, OperatorSwitch, Turn, UserLedger } from "./ports";
import { isStaleStreaming } from "./liveness";
import { dayKey, minuteKey, msUntilNextMinute, nextUtcMidnight } from "./windows";

export { minuteKey } from "./windows";

export interface QuotaSettings {
  messagesPerMinute: number;
  maxConcurrentPerConnection: number;
  /** Answers generating at once per user, across connections and regions. */
  maxConcurrentPerUser: number;
  /** Input + output tokens per user per UTC day; 0 = unlimited. */
  dailyTokenBudget: number;
}

export interface QuotaDeps {
  history: HistoryStore;
  ledger: UserLedger;
  connections: ConnectionStore;
  operator: OperatorSwitch;
  clock: Clock;
  log: Log;
  settings: QuotaSettings;
}

export interface Caller {
  connection: Connection;
  /** Epoch ms at which the frame arrived. */
  receivedAt: number;
}

type Ids = { clientMessageId?: string; turnId?: string };

/** A slot whose turn was never written is reclaimed only after this long (the send may still be writing it). */
const UNWRITTEN_SLOT_MS = 60_000;
/**
 * A streaming turn that has not moved for this long lost its worker: a live worker saves its text every 2 s while
 * text arrives and abandons a model silent for 60 s (generate.ts), so 3 minutes without a write is a crash. A
 * worker that has not started yet (an asynchronous invoke queued for minutes under throttling) may lose its slot
 * this way: the user then briefly has one answer more than the limit, never a slot blocked for good.
 */
export const QUIET_STREAMING_MS = 3 * 60_000;
/**
 * How long a refusal for concurrency asks the client to wait: an answer's end cannot be predicted, and a few
 * seconds is short against a typical answer and long against a retry loop.
 */
export const CONCURRENCY_RETRY_MS = 5_000;

function lastActivity(turn: Turn): number {
  return Math.max(Date.parse(turn.updatedAt), Date.parse(turn.generationStartedAt ?? turn.createdAt));
}

/** Whether a slot held for `turnId` can be freed: its turn ended, or its worker is gone. */
async function slotIsLeaked(deps: QuotaDeps, turnId: string, now: number, quietMs: number): Promise<boolean> {
  const sessionId = sessionOfTurn(turnId);
  const turn = sessionId ? await deps.history.getTurn(sessionId, turnId) : undefined;
  if (!turn) return now - (turnCreatedAt(turnId) ?? 0) > UNWRITTEN_SLOT_MS;
  return turn.status !== "streaming" || isStaleStreaming(turn, now) || now - lastActivity(turn) > quietMs;
}

/**
 * Frees slots whose turn is no longer generating (its worker crashed, or a release was lost), so a leaked slot
 * never blocks for good. Runs only when a slot was refused. Returns how many were freed.
 */
async function reclaim(
  deps: QuotaDeps,
  what: { kind: "connection" | "user"; id: string; holders: () => Promise<string[]>; release: (turnId: string) => Promise<void> },
): Promise<number> {
  const now = deps.clock.now();
  // The per-connection slot keeps its older rule (stale after 25 minutes); a user's slot is freed sooner, because
  // a leaked one blocks every connection of that user.
  const quietMs = what.kind === "user" ? QUIET_STREAMING_MS : Number.POSITIVE_INFINITY;
  let freed = 0;
  for (const turnId of await what.holders()) {
    if (await slotIsLeaked(deps, turnId, now, quietMs)) {
      await what.release(turnId);
      freed++;
    }
  }
  if (freed > 0) deps.log.warn("reclaimed generation slots of finished turns", { [what.kind === "user" ? "userId" : "connectionId"]: what.id, freed });
  return freed;
}

/** Gives back what admission took for `turnId` (both slots; the counted message when `uncount`). Never throws. */
export async function releaseAdmission(deps: Pick<QuotaDeps, "ledger" | "connections">, caller: Caller, turnId: string, uncount = false): Promise<void> {
  const { connectionId, userId } = caller.connection;
  await Promise.allSettled([
    deps.connections.releaseSlot(connectionId, turnId),
    deps.ledger.releaseGeneration(userId, turnId),
    uncount ? deps.ledger.uncountMessage(userId, minuteKey(caller.receivedAt)) : Promise.resolve(),
  ]);
}

/**
 * Whether admission holds a slot of the connection's own. A connection is one user's: when its limit is no lower
 * than the user's, the user's slot bounds it, and a slot of its own would be one more write per send (and one more
 * release per answer) that can never refuse.
 */
export function holdsConnectionSlot(s: QuotaSettings): boolean {
  return s.maxConcurrentPerConnection < s.maxConcurrentPerUser;
}

/**
 * Applies every limit to a new answer. The checks run at once (the latency before an answer starts is their
 * slowest, not their sum); what one check took is given back when another refuses.
 */
export async function admit(deps: QuotaDeps, caller: Caller, turnId: string, ids: Ids): Promise<void> {
  if (await deps.operator.answersPaused()) throw new ChatError("busy", "answers are paused by the operator; try again later", ids);
  const { connection, receivedAt } = caller;
  const { userId, connectionId } = connection;
  const s = deps.settings;
  const perConnection = holdsConnectionSlot(s);
  const [count, slot, userSlot, used] = await Promise.allSettled([
    deps.ledger.countMessage(userId, minuteKey(receivedAt), s.messagesPerMinute),
    perConnection ? deps.connections.acquireSlot(connectionId, turnId, s.maxConcurrentPerConnection) : Promise.resolve(true),
    deps.ledger.acquireGeneration(userId, turnId, s.maxConcurrentPerUser),
    s.dailyTokenBudget > 0 ? deps.ledger.tokensUsed(userId, dayKey(receivedAt)) : Promise.resolve(0),
  ]);
  const held = {
    count: count.status === "fulfilled" && count.value,
    // Only a slot this call wrote is given back.
    slot: perConnection && slot.status === "fulfilled" && slot.value,
    userSlot: userSlot.status === "fulfilled" && userSlot.value,
  };
  const refuse = async (error: unknown): Promise<never> => {
    await Promise.allSettled([
      held.slot ? deps.connections.releaseSlot(connectionId, turnId) : undefined,
      held.userSlot ? deps.ledger.releaseGeneration(userId, turnId) : undefined,
      held.count ? deps.ledger.uncountMessage(userId, minuteKey(receivedAt)) : undefined,
    ]);
    throw error;
  };

  const failed = [count, slot, userSlot, used].find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) return refuse(failed.reason);
  if (!held.count) {
    return refuse(new ChatError("rate_limited", `at most ${s.messagesPerMinute} messages per minute`, ids, msUntilNextMinute(receivedAt)));
  }
  const tokens = used.status === "fulfilled" ? used.value : 0;
  if (s.dailyTokenBudget > 0 && tokens >= s.dailyTokenBudget) {
    return refuse(
      new ChatError("quota_exceeded", `today's budget of ${s.dailyTokenBudget} tokens is used up`, ids, nextUtcMidnight(receivedAt) - receivedAt),
    );
  }
  try {
    if (perConnection && !held.slot) {
      const freed = await reclaim(deps, {
        kind: "connection",
        id: connectionId,
        holders: () => deps.connections.slotHolders(connectionId),
        release: (t) => deps.connections.releaseSlot(connectionId, t),
      });
      if (freed > 0) held.slot = await deps.connections.acquireSlot(connectionId, turnId, s.maxConcurrentPerConnection);
    }
    if (!held.userSlot) {
      const freed = await reclaim(deps, {
        kind: "user",
        id: userId,
        holders: () => deps.ledger.generationHolders(userId),
        release: (t) => deps.ledger.releaseGeneration(userId, t),
      });
      if (freed > 0) held.userSlot = await deps.ledger.acquireGeneration(userId, turnId, s.maxConcurrentPerUser);
    }
  } catch (error) {
    return refuse(error);
  }
  if (perConnection && !held.slot) {
    return refuse(new ChatError("rate_limited", `at most ${s.maxConcurrentPerConnection} answers at a time per connection`, ids, CONCURRENCY_RETRY_MS));
  }
  if (!held.userSlot) {
    return refuse(new ChatError("rate_limited", `at most ${s.maxConcurrentPerUser} answers at a time`, ids, CONCURRENCY_RETRY_MS));
  }
}
