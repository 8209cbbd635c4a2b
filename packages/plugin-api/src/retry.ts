import { backoffDelay, type BackoffOptions } from './backoff.js';
import { ShutdownError } from './errors.js';
import { isRetryable } from './error-guards.js';
import { sleep } from './sleep.js';

/** Options of `retry`. */
export interface RetryOptions extends BackoffOptions {
  /** Ends the retries, and any wait, with `ShutdownError`: pass `ctx.signal`. */
  signal?: AbortSignal;
  /** Attempts in all, the first included (default: no limit; bound it with `signal`). */
  maxAttempts?: number;
  /** Whether an error is worth another attempt (default `isRetryable`). Others are thrown at once. */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Before every attempt (1-based), for logs and metrics. */
  onAttempt?: (attempt: number) => void;
  /** After a failed attempt that will be retried, before waiting `delayMs`. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void;
}

/**
 * Calls `fn` until it resolves, waiting with capped exponential backoff and full jitter between
 * attempts; an error that says when to try again (`retryAfterMs`, e.g. from a `Retry-After`
 * header) waits at least that long, up to `maxDelayMs`. Throws the error at once when it is not retryable, the last error when
 * `maxAttempts` is used up, and `ShutdownError` when `signal` aborts (even mid-wait).
 *
 * Do not wrap `ctx.uplink.submit` in it: the pipeline already retries the platform.
 *
 * @example
 * await retry(() => producer.send(record), {
 *   signal: ctx.signal, initialDelayMs: 200, maxDelayMs: 5000,
 *   onRetry: ({ error, attempt, delayMs }) => ctx.logger.warn({ err: error, attempt, delayMs }, 'send failed; retrying'),
 * });
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const retryIf = options.retryIf ?? ((error: unknown) => isRetryable(error));
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw new ShutdownError();
    options.onAttempt?.(attempt);
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted) throw new ShutdownError();
      if (attempt >= maxAttempts || !retryIf(error, attempt)) throw error;
      const delayMs = Math.min(options.maxDelayMs ?? 30_000, Math.max(backoffDelay(attempt, options), retryAfterOf(error)));
      options.onRetry?.({ error, attempt, delayMs });
      await sleep(delayMs, options.signal);
    }
  }
}

/** The wait an error asks for (`DeliveryError.retryAfterMs`, or that property on any error), else 0. */
function retryAfterOf(error: unknown): number {
  const hint = typeof error === 'object' && error !== null ? (error as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  return typeof hint === 'number' && Number.isFinite(hint) && hint > 0 ? hint : 0;
}
