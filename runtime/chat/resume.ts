/**
 * `resume`: continues a turn on this connection, also one generating on another connection or in another region.
 * The client gets, exactly once and in order, the text it lacks (delta seq afterSeq + 1, …, from `offset`), then
 * the live tail and one `turn.done`.
 *
 * - A turn that has ended (or lost its worker, ./liveness.ts) is answered here, from the store.
 * - A turn still generating is the worker's to stream: this side writes a watcher item of its own (the turn item is
 *   written only by the generating region), and the worker takes the connection on at its next poll and says so
 *   (an acknowledgement item). If the turn ends before the worker saw the watcher, its final save does not name
 *   the connection among the turn's served watchers, and this side sends the rest itself. So exactly one side
 *   streams to the connection, whichever region each runs in.
 */
import type { ResumeFrame, ServerFrame, StopReason } from "../protocol";
import { notFound } from "./errors";
import { sessionOfTurn, turnCreatedAt } from "./ids";
import { DELTA_MAX_BYTES } from "./delta-streamer";
import { cutToJsonBytes } from "./json-bytes";
import { isStaleStreaming } from "./liveness";
import type { Clock, Connection, ConnectionSender, HistoryStore, Log, Turn } from "./ports";

export interface ResumeDeps {
  history: HistoryStore;
  sender: ConnectionSender;
  clock: Clock;
  log: Log;
}

/** How long this side waits for the worker's acknowledgement or the turn's end (covers replication both ways). */
export const HANDOFF_MS = 10_000;
const HANDOFF_POLL_MS = 100;
/** A turn made this recently may not have reached this region's replica yet (global tables replicate async). */
const REPLICATION_GRACE_MS = 60_000;
const REPLICATION_WAIT_MS = 3_000;

export async function resumeTurn(frame: ResumeFrame, connection: Connection, deps: ResumeDeps): Promise<void> {
  const sessionId = sessionOfTurn(frame.turnId);
  const turn = sessionId === undefined ? undefined : await findTurn(sessionId, frame.turnId, deps);
  if (sessionId === undefined || !turn || turn.userId !== connection.userId || turn.role !== "assistant") {
    throw notFound("turn", { turnId: frame.turnId });
  }
  if (!isLive(turn, deps)) return sendRest(turn, frame, connection, deps);

  const { history, clock, log } = deps;
  await history.watchTurn(sessionId, frame.turnId, {
    connectionId: connection.connectionId,
    callbackEndpoint: connection.callbackEndpoint,
    region: connection.region,
    afterSeq: frame.afterSeq,
    offset: frame.offset,
    at: new Date(clock.now()).toISOString(),
  });
  const until = clock.now() + HANDOFF_MS;
  while (clock.now() < until) {
    await clock.sleep(HANDOFF_POLL_MS);
    const [control, current] = await Promise.all([history.turnControl(sessionId, frame.turnId), history.getTurn(sessionId, frame.turnId)]);
    if (control.acknowledged.includes(connection.connectionId)) return;
    if (current && !isLive(current, deps)) {
      if (current.servedWatchers?.includes(connection.connectionId)) return;
      return sendRest(current, frame, connection, deps);
    }
  }
  // The worker neither took the connection on nor ended the turn in time (a replication delay far past the usual):
  // nothing is sent twice; the page reads history while a turn stays streaming, and the worker may still serve it.
  log.warn("resume: no hand-off from the generating worker", { connectionId: connection.connectionId, turnId: frame.turnId });
}

function isLive(turn: Turn, deps: ResumeDeps): boolean {
  return turn.status === "streaming" && !isStaleStreaming(turn, deps.clock.now());
}

async function findTurn(sessionId: string, turnId: string, deps: ResumeDeps): Promise<Turn | undefined> {
  const { history, clock } = deps;
  let turn = await history.getTurn(sessionId, turnId);
  const createdAt = turnCreatedAt(turnId) ?? 0;
  const until = clock.now() + REPLICATION_WAIT_MS;
  while (!turn && clock.now() - createdAt < REPLICATION_GRACE_MS && clock.now() < until) {
    await clock.sleep(HANDOFF_POLL_MS * 2);
    turn = await history.getTurn(sessionId, turnId);
  }
  return turn;
}

/** The text past `offset` as delta frames continuing the client's seq, then the turn's end, from the stored turn. */
async function sendRest(turn: Turn, frame: ResumeFrame, connection: Connection, deps: ResumeDeps): Promise<void> {
  const frames: ServerFrame[] = [];
  let seq = frame.afterSeq + 1;
  for (let at = Math.min(frame.offset, turn.text.length); at < turn.text.length; ) {
    const end = at + cutToJsonBytes(turn.text.slice(at), DELTA_MAX_BYTES);
    frames.push({ type: "delta", turnId: turn.turnId, seq: seq++, text: turn.text.slice(at, end) });
    at = end;
  }
  const interrupted = turn.status === "streaming"; // its worker is gone: the text is the last checkpoint
  const stopReason: StopReason = interrupted ? "error" : (turn.stopReason ?? stopReasonOf(turn.status));
  frames.push({ type: "turn.done", turnId: turn.turnId, stopReason, usage: turn.usage ?? { inputTokens: 0, outputTokens: 0 }, ttftMs: turn.ttftMs ?? null });
  for (const out of frames) {
    if ((await deps.sender.post(connection.connectionId, out)) === "gone") return;
  }
}

function stopReasonOf(status: Turn["status"]): StopReason {
  switch (status) {
    case "complete":
      return "end_turn";
    case "stopped":
      return "stopped";
    case "guardrail":
      return "guardrail";
    default:
      return "error";
  }
}
