/**
 * Session and turn ids. Both are opaque to clients. A turn id starts with its creation time (fixed-width base 36)
 * so turns sort by creation time under `TURN#<turnId>`, and ends with its session id, so `stop` and `regenerate`
 * (which carry only a turn id) find the turn with one GetItem; ownership is still checked on the item.
 */
import { randomBytes, randomUUID } from "node:crypto";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function newSessionId(): string {
  return randomUUID();
}

let lastMs = 0;

/**
 * `count` turn ids for one session, in creation order. Within a process the time part strictly increases (a
 * user turn and its answer are created in the same millisecond; so may be two quick sends).
 */
export function newTurnIds(sessionId: string, nowMs: number, count: number): string[] {
  return Array.from({ length: count }, () => {
    lastMs = Math.max(nowMs, lastMs + 1);
    return `${lastMs.toString(36).padStart(9, "0")}${randomBytes(4).toString("hex")}_${sessionId}`;
  });
}

export function newTurnId(sessionId: string, nowMs: number): string {
  return newTurnIds(sessionId, nowMs, 1)[0]!;
}

/** When a turn id was made (epoch ms), or undefined when the id is not one of ours. */
export function turnCreatedAt(turnId: string): number | undefined {
  if (sessionOfTurn(turnId) === undefined) return undefined;
  const ms = parseInt(turnId.slice(0, 9), 36);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The session a turn id belongs to, or undefined when the id is not one of ours. */
export function sessionOfTurn(turnId: string): string | undefined {
  const at = turnId.indexOf("_");
  if (at < 10) return undefined;
  const sessionId = turnId.slice(at + 1);
  return isUuid(sessionId) ? sessionId : undefined;
}
