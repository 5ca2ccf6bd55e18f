/**
 * The history table's items as keys and records (keys and index: ./schema.ts): a session's META, its turns, and the
 * control items beside a streaming turn. Shared by the history store, erasure and the control signals.
 */
import type { Turn } from "../chat/ports";
import { historyTable } from "./schema";

export type Item = Record<string, unknown>;

export const PK = historyTable.hashKey.name;
export const SK = historyTable.rangeKey!.name;
export const TTL = historyTable.ttlAttribute;

export const sessionKey = (sessionId: string) => ({ [PK]: `SESSION#${sessionId}`, [SK]: "META" });
export const turnKey = (sessionId: string, turnId: string) => ({ [PK]: `SESSION#${sessionId}`, [SK]: `TURN#${turnId}` });
/**
 * What others ask of a streaming turn lives beside it, not on it (see HistoryStore.requestStop), under one prefix
 * so the worker reads all of it with one Query: a stop request, watchers (resume) and the worker's acknowledgements.
 */
export const controlPrefix = (turnId: string) => `CTL#${turnId}#`;
export const stopKey = (sessionId: string, turnId: string) => ({ [PK]: `SESSION#${sessionId}`, [SK]: `${controlPrefix(turnId)}STOP` });
export const watchKey = (sessionId: string, turnId: string, connectionId: string) => ({ [PK]: `SESSION#${sessionId}`, [SK]: `${controlPrefix(turnId)}WATCH#${connectionId}` });
/** Rung by each resuming connection, so a batched poll (runtime/chat/control-batch.ts) reads one key per turn for watchers. */
export const bellKey = (sessionId: string, turnId: string) => ({ [PK]: `SESSION#${sessionId}`, [SK]: `${controlPrefix(turnId)}BELL` });
export const ackKey = (sessionId: string, turnId: string, connectionId: string) => ({ [PK]: `SESSION#${sessionId}`, [SK]: `${controlPrefix(turnId)}ACK#${connectionId}` });
/** Control items matter only while the turn streams (at most the worker's 15 minutes). */
export const STOP_TTL_SECONDS = 86_400;

const TURN_FIELDS = [
  "turnId", "sessionId", "userId", "role", "text", "status", "clientMessageId", "parentTurnId", "usage", "model",
  "stopReason", "ttftMs", "region", "connectionId", "generationStartedAt", "supersededBy",
  "supersedes", "servedWatchers", "droppedBy", "replaces", "continuedAt", "createdAt", "updatedAt",
] as const;

export function toTurn(item: Item): Turn {
  const turn: Record<string, unknown> = {};
  for (const field of TURN_FIELDS) if (item[field] !== undefined && item[field] !== null) turn[field] = item[field];
  return turn as unknown as Turn;
}
