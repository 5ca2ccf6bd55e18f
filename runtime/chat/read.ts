/** `sessions` and `history`: a user reads only their own sessions (another user's is `not_found`). */
import type { HistoryFrame, HistoryFrameOut, SessionsFrameOut, TurnRecord } from "../protocol";
import { ChatError, notFound } from "./errors";
import { decodeHistoryCursor, encodeHistoryCursor, fitHistoryPage } from "./history-page";
import { isUuid } from "./ids";
import { isStaleStreaming } from "./liveness";
import { InvalidCursor, type Clock, type Connection, type HistoryStore, type Turn } from "./ports";

export const SESSIONS_LIMIT = 50;
export const HISTORY_PAGE_SIZE = 50;

export interface ReadDeps {
  history: HistoryStore;
  clock: Clock;
}

export async function listSessions(connection: Connection, deps: ReadDeps): Promise<SessionsFrameOut> {
  const sessions = await deps.history.listSessions(connection.userId, SESSIONS_LIMIT);
  return {
    type: "sessions",
    sessions: sessions.map((s) => ({ sessionId: s.sessionId, title: s.title, createdAt: s.createdAt, updatedAt: s.updatedAt })),
  };
}

export function toRecord(turn: Turn, nowMs: number): TurnRecord {
  const record: TurnRecord = {
    turnId: turn.turnId,
    sessionId: turn.sessionId,
    role: turn.role,
    text: turn.text,
    status: isStaleStreaming(turn, nowMs) ? "error" : turn.status,
    createdAt: turn.createdAt,
    updatedAt: turn.updatedAt,
  };
  if (turn.parentTurnId !== undefined) record.parentTurnId = turn.parentTurnId;
  if (turn.supersededBy !== undefined) record.supersededBy = turn.supersededBy;
  if (turn.stopReason !== undefined && turn.status !== "streaming") record.stopReason = turn.stopReason;
  if (turn.usage !== undefined) record.usage = turn.usage;
  if (turn.model !== undefined) record.model = turn.model;
  return record;
}

/**
 * One page of a session's turns, oldest first; earlier versions of a regenerated answer are kept (marked
 * `supersededBy`), the turns an edit dropped are left out. A page holds at most
 * HISTORY_PAGE_SIZE turns and fits one API Gateway message (./history-page.ts), so a long turn may span pages.
 */
export async function readHistory(frame: HistoryFrame, connection: Connection, deps: ReadDeps): Promise<HistoryFrameOut> {
  const session = isUuid(frame.sessionId) ? await deps.history.getSession(frame.sessionId) : undefined;
  if (!session || session.userId !== connection.userId) throw notFound("session");
  const here = frame.cursor === undefined ? {} : decodeHistoryCursor(frame.cursor);
  if (here === undefined) throw invalidCursor();
  try {
    const page = await deps.history.pageTurns(frame.sessionId, HISTORY_PAGE_SIZE, here.storeCursor);
    const records = page.turns.map((t) => toRecord(t, deps.clock.now()));
    // Continue inside the turn the previous page was cut in (unless it is gone or replaced since).
    const first = records[0];
    if (first !== undefined && here.turnId === first.turnId && here.offset !== undefined) {
      records[0] = { ...first, text: first.text.slice(here.offset), textOffset: here.offset };
    }
    const out: HistoryFrameOut = { type: "history", sessionId: frame.sessionId, turns: [] };
    const fitted = fitHistoryPage(out, records, here, (turnId) => deps.history.cursorAfter(frame.sessionId, turnId), page.cursor);
    out.turns = fitted.turns;
    if (fitted.next !== undefined) out.cursor = encodeHistoryCursor(fitted.next);
    return out;
  } catch (error) {
    if (error instanceof InvalidCursor) throw invalidCursor();
    throw error;
  }
}

const invalidCursor = () => new ChatError("bad_request", "cursor is not valid for this session");
