/**
 * The time windows budgets are counted in: messages per UTC minute, tokens per UTC day. Keys are UTC so every
 * region (and the home region's counters) agree on which window a moment belongs to.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The message counter's key: one item per user per UTC minute (`2026-12-04T19:05`). */
export function minuteKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** The token counter's key: one item per user per UTC day (`2026-12-04`). */
export function dayKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Milliseconds until the next UTC minute starts (when a full per-minute counter is new again). */
export function msUntilNextMinute(ms: number): number {
  return MINUTE_MS - (ms % MINUTE_MS);
}

/** The next UTC midnight, epoch ms: when the day's token count starts from 0. */
export function nextUtcMidnight(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS + DAY_MS;
}
