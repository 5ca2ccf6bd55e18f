/**
 * Time for the controller: the timers it arms (injectable, so tests move time themselves) and the pace of its history
 * reads. The server gives every connection a frame budget (runtime/chat/frame-budget.ts: FRAME_BURST 30 frames, then
 * FRAMES_PER_SECOND 5) and refuses a frame over it with `rate_limited` naming nothing; a page that reads a long
 * conversation page after page must stay well inside it, with room left for the user's own frames.
 */

/** An armed timer, as `Timers.setTimeout` returned it. */
export type TimerHandle = unknown;

export interface Timers {
  now(): number;
  setTimeout(run: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** History pages asked for at once, then a second: a third of the server's burst and under half its rate. */
export const HISTORY_PAGE_BURST = 10;
export const HISTORY_PAGES_PER_SECOND = 2;

/** A token bucket: `burst` at once, then `perSecond`. */
export class Pacer {
  private tokens: number;
  private at: number | null = null;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one at `now` (ms) and answers 0, or answers how long to wait when none is left (and takes nothing). */
  take(now: number): number {
    if (this.at !== null) this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.at) * this.perSecond) / 1000);
    this.at = this.at === null ? now : Math.max(this.at, now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond));
  }
}
