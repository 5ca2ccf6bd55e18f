/** Bounded retries with exponential backoff and full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
import type { Clock } from "./ports";

/** Exponential backoff: the ceiling doubles from baseMs each attempt up to maxMs; the delay is drawn below it. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export interface RetryPolicy extends Backoff {
  attempts: number;
}

export function backoffDelay(attempt: number, policy: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Runs `task` up to `policy.attempts` times while `shouldRetry(error)` holds; rethrows the last error. */
export async function withRetry<T>(
  task: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  clock: Clock,
  shouldRetry: (error: unknown) => boolean = () => true,
  onRetry?: (error: unknown, attempt: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !shouldRetry(error)) throw error;
      onRetry?.(error, attempt);
      await clock.sleep(backoffDelay(attempt, policy));
    }
  }
}

/**
 * Runs `task` until it succeeds, waiting a backoff delay (full jitter) between attempts for as long as
 * `mayWait(delayMs)` allows (e.g. while the Lambda has time left); then rethrows the last error.
 */
export async function retryWhile<T>(
  task: (attempt: number) => Promise<T>,
  backoff: Backoff,
  clock: Clock,
  mayWait: (delayMs: number) => boolean,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task(attempt);
    } catch (error) {
      const delay = backoffDelay(attempt, backoff);
      if (!mayWait(delay)) throw error;
      onRetry?.(error, attempt, delay);
      await clock.sleep(delay);
    }
  }
}
