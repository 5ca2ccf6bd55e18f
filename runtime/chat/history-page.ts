/**
 * Fits a `history` answer into one API Gateway message. @connections refuses a message over 128 KB
 * (PayloadTooLargeException; "Amazon API Gateway quotas for configuring and running a WebSocket API"), and one
 * answer can hold far more (maxOutputTokens goes up to 64,000 tokens). So a page ends early when the next turn does
 * not fit, and a turn too long for any page is sent in parts across consecutive pages: each part carries
 * `textOffset`, and every part but the last is `partial`.
 */
import type { HistoryFrameOut, TurnRecord } from "../protocol";
import { cutToJsonBytes } from "./json-bytes";

/** A history message's budget in UTF-8 bytes: well under the 128 KB limit, leaving room for the cursor. */
export const HISTORY_MAX_BYTES = 96 * 1024;

/** Where the next page starts: after the store's cursor, and `offset` characters into turn `turnId`. */
export interface HistoryPosition {
  storeCursor?: string;
  turnId?: string;
  offset?: number;
}

export interface FittedPage {
  turns: TurnRecord[];
  /** Present when more follows (the page was cut for size, or the store has more turns). */
  next?: HistoryPosition;
}

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), "utf8");

/**
 * Keeps as many whole records as fit in `maxBytes` for a frame that looks like `frame` (its `turns` empty). A first
 * record that alone does not fit is cut: its text up to what fits, marked `partial`.
 *
 * `here` is where this page started, `after(turnId)` the store cursor that continues after a turn, and
 * `storeNext` the store's own cursor past the last record read.
 */
export function fitHistoryPage(
  frame: HistoryFrameOut,
  records: TurnRecord[],
  here: HistoryPosition,
  after: (turnId: string) => string,
  storeNext: string | undefined,
  maxBytes = HISTORY_MAX_BYTES,
): FittedPage {
  const turns: TurnRecord[] = [];
  // The envelope, with room for the longest cursor the frame parser accepts back (runtime/chat/frames.ts).
  let used = bytes({ ...frame, turns: [], cursor: "" }) + 2048;
  for (const record of records) {
    const size = bytes(record) + 1; // and its comma
    if (used + size <= maxBytes) {
      turns.push(record);
      used += size;
      continue;
    }
    if (turns.length > 0) return { turns, next: { storeCursor: after(turns[turns.length - 1]!.turnId) } };
    const start = record.textOffset ?? 0;
    const room = maxBytes - used - bytes({ ...record, text: "", textOffset: Number.MAX_SAFE_INTEGER, partial: true });
    const end = cutToJsonBytes(record.text, room);
    turns.push({ ...record, text: record.text.slice(0, end), textOffset: start, partial: true });
    return { turns, next: { ...here, turnId: record.turnId, offset: start + end } };
  }
  return storeNext === undefined ? { turns } : { turns, next: { storeCursor: storeNext } };
}

/** The cursor handed to the client: opaque, base64url JSON of a HistoryPosition. */
export function encodeHistoryCursor(position: HistoryPosition): string {
  return Buffer.from(JSON.stringify({ s: position.storeCursor, t: position.turnId, o: position.offset }), "utf8").toString("base64url");
}

/** Undefined when the cursor is not one this module wrote. */
export function decodeHistoryCursor(cursor: string): HistoryPosition | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { s?: unknown; t?: unknown; o?: unknown };
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    const { s, t, o } = parsed;
    if (s !== undefined && typeof s !== "string") return undefined;
    if ((t === undefined) !== (o === undefined)) return undefined;
    if (t !== undefined && (typeof t !== "string" || typeof o !== "number" || !Number.isSafeInteger(o) || o <= 0)) return undefined;
    return { ...(s !== undefined ? { storeCursor: s } : {}), ...(t !== undefined ? { turnId: t as string, offset: o as number } : {}) };
  } catch {
    return undefined;
  }
}
