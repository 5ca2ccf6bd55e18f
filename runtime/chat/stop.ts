/**
 * `stop`: records a stop request for the turn; the worker generating it polls for it and aborts the model
 * stream, then sends `turn.done` (stopReason `stopped`). Stopping a turn that already ended changes nothing.
 */
import type { StopFrame } from "../protocol";
import { notFound } from "./errors";
import { sessionOfTurn } from "./ids";
import type { Clock, Connection, HistoryStore, Log } from "./ports";

export interface StopDeps {
  history: HistoryStore;
  clock: Clock;
  log: Log;
}

export async function stopTurn(frame: StopFrame, connection: Connection, deps: StopDeps): Promise<void> {
  const sessionId = sessionOfTurn(frame.turnId);
  const turn = sessionId ? await deps.history.getTurn(sessionId, frame.turnId) : undefined;
  if (!sessionId || !turn || turn.userId !== connection.userId || turn.role !== "assistant") {
    throw notFound("turn", { turnId: frame.turnId });
  }
  if (turn.status !== "streaming") return;
  await deps.history.requestStop(sessionId, frame.turnId, new Date(deps.clock.now()).toISOString());
  deps.log.info("stop requested", { connectionId: connection.connectionId, turnId: frame.turnId });
}
