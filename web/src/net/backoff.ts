/**
 * Reconnect delays: exponential backoff with "full jitter" (a uniformly random delay between 0 and the capped
 * exponential), so that thousands of clients dropped by the same outage do not come back in lock-step.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export interface BackoffOptions {
  /** Delay ceiling of the first retry, in milliseconds. */
  baseMs: number;
  /** Largest delay ever returned, in milliseconds. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/** The delay before retry number `attempt` (0 for the first retry). `random` returns a number in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt));
  // Never 0: a floor of a tenth of the base keeps a tight loop from hammering a refusing endpoint.
  return Math.max(options.baseMs / 10, Math.floor(random() * ceiling));
}

/**
 * Which region to try next. A connection that was open and dropped retries its own region first; a region that
 * could not be reached at all hands over to the next one in the configured order (WebConfig.regions).
 */
export function nextRegionIndex(current: number, regionCount: number, everOpened: boolean): number {
  if (regionCount <= 1 || everOpened) return current;
  return (current + 1) % regionCount;
}
