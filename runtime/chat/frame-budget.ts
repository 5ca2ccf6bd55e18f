/**
 * The per-connection frame budget: a token bucket per connection for every action (ping, sessions and history
 * included). A frame over it is refused with `rate_limited` and `retryAfterMs`; a connection refused
 * `strikesBeforeClose` times in a row is closed.
 *
 * It lives in the warm container's memory, with no store round trip per frame. API Gateway may deliver a
 * connection's frames to any warm container of the message function, so this bounds what a connection gets
 * answered per container: with C containers a flood gets at most C times the budget answered, and C is bounded by
 * the function's concurrency. What bounds the rest: the stage's route throttling (rate and burst, shared by
 * everyone, so it protects the bill, not the neighbours), the per-user budgets in the home region for everything
 * that costs model tokens, and the close, which ends a flood as soon as one container has seen enough of it.
 */

export interface FrameBudgetSettings {
  /** Frames a connection may send at once. */
  burst: number;
  /** Frames a second the bucket refills. */
  perSecond: number;
  /** Refusals in a row after which the connection is closed. */
  strikesBeforeClose: number;
}

export type FrameVerdict = { ok: true } | { ok: false; retryAfterMs: number; close: boolean };

interface Bucket {
  tokens: number;
  at: number;
  strikes: number;
}

export class FrameBudget {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: FrameBudgetSettings,
    /** Buckets kept at most (least recently used dropped first): bounds the container's memory. */
    private readonly maxConnections = 10_000,
  ) {}

  /** Takes one frame from the connection's bucket at time `now` (epoch ms). */
  take(connectionId: string, now: number): FrameVerdict {
    const { burst, perSecond, strikesBeforeClose } = this.settings;
    const bucket = this.buckets.get(connectionId) ?? { tokens: burst, at: now, strikes: 0 };
    this.buckets.delete(connectionId); // re-inserted below: Map order is the LRU order
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * perSecond) / 1000);
    bucket.at = Math.max(bucket.at, now);
    let verdict: FrameVerdict;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.strikes = 0;
      verdict = { ok: true };
    } else {
      bucket.strikes++;
      verdict = { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * 1000) / perSecond), close: bucket.strikes >= strikesBeforeClose };
    }
    this.buckets.set(connectionId, bucket);
    if (this.buckets.size > this.maxConnections) this.buckets.delete(this.buckets.keys().next().value!);
    return verdict;
  }
}
