/**
 * Whether a turn still `streaming` in the store still has a worker. A lost worker (crash, out of memory, a killed
 * process, a region gone) leaves its turn `streaming`; it is shown, resumed and regenerated as interrupted.
 */
import type { Turn } from "./ports";

/** A generating worker writes its turn at least this often (a checkpoint), even when no new text came. */
export const HEARTBEAT_MS = 10_000;

/**
 * A claimed turn not written for this long lost its worker: several missed heartbeats, more than a global table's
 * replication lag (typically within a second), so another region does not take a live worker for a dead one.
 */
export const SILENT_WORKER_MS = 45_000;

/**
 * A turn never claimed: a worker starts within minutes (async event age) and runs at most 15 (the Lambda limit), so
 * a turn still waiting well after that was never going to be generated.
 */
export const STALE_STREAMING_MS = 25 * 60_000;

export function isStaleStreaming(turn: Turn, nowMs: number): boolean {
  if (turn.status !== "streaming") return false;
  // A continued turn (./continue.ts) streams anew from continuedAt.
  if (nowMs - Date.parse(turn.continuedAt ?? turn.createdAt) > STALE_STREAMING_MS) return true;
  return turn.generationStartedAt !== undefined && nowMs - Date.parse(turn.updatedAt) > SILENT_WORKER_MS;
}
