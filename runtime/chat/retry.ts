/** Bounded retries with exponential backoff and full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
import type { Clock } from "./ports";

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
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
