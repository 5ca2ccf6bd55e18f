/**
 * `rename` and `delete` of a whole session. Both answer with the caller's session list; another user's session is
 * `not_found`, exactly as one that does not exist.
 *
 * Delete erases every item of the session in this region's replica (global tables replicate deletes), except what a
 * live worker still needs: an answer generating now (or queued) gets an erase request (a stop that says "then
 * erase") and keeps its turn item, and its worker, which may run in another region, claims it as usual, stops, sends
 * its one `turn.done` and erases the turn and its control items itself, after its last write
 * (runtime/chat/generate.ts). A second delivery of the job finds the turn claimed and sends nothing; once the worker
 * has erased the turn, nothing re-creates it (the worker's writes are conditional on the turn still streaming).
 * One window is left open: an answer in another region that ends by itself after the delete but before the delete
 * and the erase request have replicated there (within the replication lag, about a second) is saved there and
 * replicates back (last writer wins). It stays invisible (its session item is gone: not listed, history not_found)
 * and expires with the history retention; its erase request expires within a day.
 */
import type { DeleteFrame, RenameFrame, SessionsFrameOut } from "../protocol";
import { notFound } from "./errors";
import { isUuid } from "./ids";
import { isStaleStreaming } from "./liveness";
import type { Connection, Log, Session } from "./ports";
import { listSessions, type ReadDeps } from "./read";

export type ConversationDeps = ReadDeps & { log: Log };

async function ownSession(sessionId: string, connection: Connection, deps: ReadDeps): Promise<Session> {
  const session = isUuid(sessionId) ? await deps.history.getSession(sessionId) : undefined;
  if (!session || session.userId !== connection.userId) throw notFound("session");
  return session;
}

/** The title arrives normalised (./frames.ts, ./titles.ts). Renaming does not move the session in the list. */
export async function renameSession(frame: RenameFrame, connection: Connection, deps: ConversationDeps): Promise<SessionsFrameOut> {
  await ownSession(frame.sessionId, connection, deps);
  // A delete between the read and the write: the conditional write finds nothing and the session stays gone.
  if (!(await deps.history.renameSession(frame.sessionId, frame.title))) throw notFound("session");
  deps.log.info("session renamed", { connectionId: connection.connectionId, sessionId: frame.sessionId });
  return listSessions(connection, deps);
}

export async function deleteSession(frame: DeleteFrame, connection: Connection, deps: ConversationDeps): Promise<SessionsFrameOut> {
  await ownSession(frame.sessionId, connection, deps);
  const at = new Date(deps.clock.now()).toISOString();
  const turns = await deps.history.allTurns(frame.sessionId);
  // An answer whose worker is gone (./liveness.ts) has no one to erase it: it goes with the rest.
  const live = turns.filter((t) => t.status === "streaming" && !isStaleStreaming(t, deps.clock.now())).map((t) => t.turnId);
  // The erase requests first, so the workers stop as soon as they can; then everything else goes.
  await Promise.all(live.map((turnId) => deps.history.requestErase(frame.sessionId, turnId, at)));
  await deps.history.eraseSession(frame.sessionId, live);
  deps.log.info("session deleted", { connectionId: connection.connectionId, sessionId: frame.sessionId, turns: turns.length, generating: live.length });
  return listSessions(connection, deps);
}
