/**
 * The protocol's invariants, checked after every fault (ARCHITECTURE.md, "Wire protocol" and "Data rules"):
 * - no lost turn: every `turn.started` the client saw has its assistant turn (and the user turn it answers) saved;
 * - no turn left `streaming` once the worker is done (the check waits for the store to settle);
 * - history equal to what was streamed: the saved text is exactly the concatenated deltas (for a client that
 *   dropped off, what it received is a prefix of what was saved: frames in flight when it went are lost to it);
 * - deltas in seq order with no gaps or duplicates, in arrival order, and none after the turn's end;
 * - exactly one `turn.done` (or one `error` naming the turn) per turn, and its stopReason agrees with the status;
 * - exactly one assistant turn per clientMessageId (a retry or a duplicate never makes a second one).
 * The frames are read only once the stack is quiet (store settled, every invocation finished, and a ping answered
 * on each open connection, so whatever the server sent before has arrived): a second end or a late delta counts.
 */
import type { ChatClient, TurnFrames } from "../../bench/client";
import type { HistoryReader, StoredTurn } from "../../bench/store";

export interface ObservedTurn {
  client: ChatClient;
  clientMessageId: string;
  /** When this attempt's send went out (an error naming only the clientMessageId before it answered an earlier try). */
  sentAt: number;
  /** The client went away during the turn: it may have missed the end and the last frames. */
  dropped?: boolean;
}

/** A turn the client started, to be read again when the invariants are checked. */
export function observed(client: ChatClient, turn: Pick<TurnFrames, "clientMessageId" | "sentAt">, dropped = false): ObservedTurn {
  return { client, clientMessageId: turn.clientMessageId, sentAt: turn.sentAt, dropped };
}

export interface QuietStack {
  reader: HistoryReader;
  /** Resolves when no route or function invocation is running. */
  quiet(): Promise<void>;
}

const STATUS_OF: Record<string, StoredTurn["status"][]> = {
  end_turn: ["complete"],
  max_tokens: ["complete"],
  stopped: ["stopped"],
  guardrail: ["guardrail"],
  error: ["error"],
};

/** Returns the violations found (empty when every invariant holds). Waits up to `settleMs` for no turn to be `streaming`. */
export async function checkInvariants(stack: QuietStack, observedTurns: ObservedTurn[], settleMs = 10_000): Promise<string[]> {
  const { reader } = stack;
  const violations: string[] = [];
  const deadline = Date.now() + settleMs;
  const storedOf = async (sessionId: string): Promise<StoredTurn[]> => {
    for (;;) {
      const list = await reader.turns(sessionId);
      if (!list.some((t) => t.status === "streaming") || Date.now() > deadline) return list;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // Settle: the store first (the worker's last write), then every invocation, then each open connection's pipe.
  for (const t of observedTurns) {
    const sessionId = t.client.turnFrames(t.clientMessageId, t.sentAt).started?.sessionId;
    if (sessionId) await storedOf(sessionId);
  }
  await stack.quiet();
  for (const client of new Set(observedTurns.map((t) => t.client))) if (client.open) await client.ping();

  const turns = observedTurns.map((t) => ({ ...t, frames: t.client.turnFrames(t.clientMessageId, t.sentAt) }));
  const sessions = new Map<string, typeof turns>();
  for (const t of turns) {
    const sessionId = t.frames.started?.sessionId;
    if (sessionId) sessions.set(sessionId, [...(sessions.get(sessionId) ?? []), t]);
  }
  const stored = new Map<string, StoredTurn[]>();
  for (const sessionId of sessions.keys()) stored.set(sessionId, await storedOf(sessionId));

  for (const { client, frames, dropped } of turns) {
    const name = `turn of ${frames.clientMessageId}`;
    if (!frames.started) {
      // Refused before a turn existed: it must have said so, and nothing may be generating for it.
      if (!frames.error && !dropped) violations.push(`${name}: neither turn.started nor an error`);
      continue;
    }
    const { turnId, sessionId, userTurnId } = frames.started;
    const list = stored.get(sessionId) ?? [];
    const assistant = list.find((t) => t.turnId === turnId);
    if (!assistant) {
      violations.push(`${name}: assistant turn ${turnId} lost (not in the store)`);
      continue;
    }
    if (userTurnId && !list.some((t) => t.turnId === userTurnId && t.role === "user")) violations.push(`${name}: user turn ${userTurnId} lost`);
    if (assistant.status === "streaming") violations.push(`${name}: left streaming`);

    frames.deltas.forEach((d, i) => {
      if (d.seq !== i) violations.push(`${name}: delta #${i} has seq ${d.seq} (gap, duplicate or out of order)`);
    });
    const late = deltasAfterEnd(client, turnId);
    if (late > 0) violations.push(`${name}: ${late} delta(s) after the turn's end`);
    const ends = frames.endCount;
    if (dropped) {
      if (ends > 1) violations.push(`${name}: ${ends} ends`);
      if (!assistant.text.startsWith(frames.text)) violations.push(`${name}: saved text does not start with what the client received`);
    } else {
      if (ends !== 1) violations.push(`${name}: ${ends} turn.done/error frames, expected exactly 1`);
      if (assistant.text !== frames.text) {
        violations.push(`${name}: saved text (${assistant.text.length} chars) differs from the streamed text (${frames.text.length} chars)`);
      }
      if (frames.done) {
        const expected = STATUS_OF[frames.done.stopReason] ?? [];
        if (!expected.includes(assistant.status)) violations.push(`${name}: turn.done says ${frames.done.stopReason}, store says ${assistant.status}`);
      } else if (frames.error && assistant.status !== "error") {
        violations.push(`${name}: error frame ${frames.error.code}, store says ${assistant.status}`);
      }
    }
  }

  // Exactly one assistant turn per message: no duplicate generated by a retry.
  for (const [sessionId, inSession] of sessions) {
    const list = stored.get(sessionId) ?? [];
    const assistants = list.filter((t) => t.role === "assistant");
    const users = list.filter((t) => t.role === "user");
    const startedIds = new Set(inSession.map((t) => t.frames.started!.turnId));
    if (assistants.length !== startedIds.size) {
      violations.push(`session ${sessionId}: ${assistants.length} assistant turns stored for ${startedIds.size} started`);
    }
    if (users.length !== new Set(inSession.map((t) => t.frames.started!.userTurnId)).size) {
      violations.push(`session ${sessionId}: ${users.length} user turns stored for ${inSession.length} messages`);
    }
  }
  return violations;
}

/** Deltas of the turn that arrived after its first `turn.done` or `error` frame. */
function deltasAfterEnd(client: ChatClient, turnId: string): number {
  const ofTurn = client.frames.filter((f) => f.json?.turnId === turnId);
  const end = ofTurn.findIndex((f) => f.json!.type === "turn.done" || f.json!.type === "error");
  return end < 0 ? 0 : ofTurn.slice(end + 1).filter((f) => f.json!.type === "delta").length;
}
