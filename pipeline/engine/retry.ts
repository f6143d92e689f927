// Bounded retry with exponential backoff: the one loop behind the cluster executor's client
// commands and a download (stages/fetch/download.ts), which each had their own.
//
// Not p-retry (issue 23, item 8): p-retry 7.1.1 (the last for Node 20; 8+ need Node 22) is 223
// lines plus is-network-error, and would still need a wrapper per caller (its AbortError to stop,
// a signal that rejects with the signal's reason, a TypeError that it never retries, errors it
// decorates), so it removes no code here and adds two packages to install.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Retries after the first attempt: at most `retries + 1` attempts. */
  retries: number;
  /** The wait before the first retry; each next wait doubles it. */
  baseDelayMs: number;
  /** Whether an error is worth another attempt; any other is thrown at once. */
  retryable: (e: unknown) => boolean;
  /** Called before the wait for retry `retry` (1-based), e.g. to log it. */
  onRetry?: (e: unknown, retry: number, delayMs: number) => void | Promise<void>;
  /** Ends a wait early: the wait rejects with node's AbortError. */
  signal?: AbortSignal;
}

/**
 * `attempt(n)` for n = 1, 2, ... until it resolves; a non-retryable error, or the error of the
 * last allowed attempt, is thrown as it is.
 */
export async function retrying<T>(attempt: (n: number) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (n > o.retries || !o.retryable(e)) throw e;
      const delay = o.baseDelayMs * 2 ** (n - 1);
      await o.onRetry?.(e, n, delay);
      await sleep(delay, undefined, { signal: o.signal });
    }
  }
}
