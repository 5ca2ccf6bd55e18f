/**
 * Per-user and per-connection limits for starting answers: messages per minute per user (a counter item per
 * minute, expiring by TTL) and concurrent generations per connection (slots on the connection item).
 */
import { ChatError } from "./errors";
import { sessionOfTurn, turnCreatedAt } from "./ids";
import type { Connection, ConnectionStore, Clock, HistoryStore, Log, UserLedger } from "./ports";
import { isStaleStreaming } from "./liveness";

export interface QuotaDeps {
  history: HistoryStore;
  ledger: UserLedger;
  connections: ConnectionStore;
  clock: Clock;
  log: Log;
  settings: { messagesPerMinute: number; maxConcurrentPerConnection: number };
}

export interface Caller {
  connection: Connection;
  /** Epoch ms at which the frame arrived. */
  receivedAt: number;
}

/** The quota counter's key: one item per user per UTC minute. */
export function minuteKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** A slot whose turn was never written is reclaimed only after this long (the send may still be writing it). */
const UNWRITTEN_SLOT_MS = 60_000;

/**
 * Frees slots whose turn is no longer generating (its worker crashed, or a release was lost), so a leaked slot
 * never blocks a connection for good. Runs only when a slot was refused. Returns how many were freed.
 */
async function reclaimSlots(deps: QuotaDeps, connectionId: string): Promise<number> {
  const now = deps.clock.now();
  let freed = 0;
  for (const turnId of await deps.connections.slotHolders(connectionId)) {
    const sessionId = sessionOfTurn(turnId);
    const turn = sessionId ? await deps.history.getTurn(sessionId, turnId) : undefined;
    const unwritten = !turn && now - (turnCreatedAt(turnId) ?? 0) > UNWRITTEN_SLOT_MS;
    if (unwritten || (turn && (turn.status !== "streaming" || isStaleStreaming(turn, now)))) {
      await deps.connections.releaseSlot(connectionId, turnId);
      freed++;
    }
  }
  if (freed > 0) deps.log.warn("reclaimed generation slots of finished turns", { connectionId, freed });
  return freed;
}

/**
 * Applies the per-user message quota and the per-connection concurrency limit. On success the message is counted
 * and a slot held; a refusal holds neither (a slot refused gives the counted message back).
 */
export async function admit(deps: QuotaDeps, caller: Caller, turnId: string, ids: { clientMessageId?: string; turnId?: string }): Promise<void> {
  const { connection } = caller;
  const [countResult, slotResult] = await Promise.allSettled([
    deps.ledger.countMessage(connection.userId, minuteKey(caller.receivedAt), deps.settings.messagesPerMinute),
    deps.connections.acquireSlot(connection.connectionId, turnId, deps.settings.maxConcurrentPerConnection),
  ]);
  if (slotResult.status === "rejected") throw slotResult.reason;
  let slot = slotResult.value;
  if (!slot && countResult.status === "fulfilled" && countResult.value && (await reclaimSlots(deps, connection.connectionId)) > 0) {
    slot = await deps.connections.acquireSlot(connection.connectionId, turnId, deps.settings.maxConcurrentPerConnection);
  }
  if (countResult.status === "rejected") {
    if (slot) await deps.connections.releaseSlot(connection.connectionId, turnId).catch(() => undefined);
    throw countResult.reason;
  }
  const counted = countResult.value;
  if (!counted) {
    if (slot) await deps.connections.releaseSlot(connection.connectionId, turnId);
    throw new ChatError("rate_limited", `at most ${deps.settings.messagesPerMinute} messages per minute`, ids);
  }
  if (!slot) {
    // Refused: the message starts nothing, so it does not count (admission that fails holds nothing).
    await deps.ledger.uncountMessage(connection.userId, minuteKey(caller.receivedAt)).catch(() => undefined);
    throw new ChatError("rate_limited", `at most ${deps.settings.maxConcurrentPerConnection} answers at a time per connection`, ids);
  }
}

