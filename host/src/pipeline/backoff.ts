import { ShutdownError } from '@tbi/plugin-api';

/** How long to wait between attempts. */
export interface BackoffOptions {
  /** Cap of the first delay, in ms. */
  initialMs: number;
  /** Largest cap, in ms; the cap doubles per attempt up to this. */
  maxMs: number;
  /** Random source in [0, 1); tests pin it. */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (1-based), with "full jitter": a uniform draw between 0 and
 * the exponential cap. Spreads retries of many integrations so a recovering platform is not hit by
 * all of them at once (AWS architecture blog, "Exponential Backoff And Jitter").
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const cap = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round((options.random ?? Math.random)() * cap);
}

/** Resolves after `ms`, or rejects with `ShutdownError` as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new ShutdownError());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ShutdownError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options of `retryForever`. */
export interface RetryOptions extends BackoffOptions {
  /** Stops the retries: the promise then rejects with `ShutdownError`. */
  signal: AbortSignal;
  /** Called after each failed attempt, before waiting `delayMs`. */
  onFailure(error: unknown, attempt: number, delayMs: number): void;
  /** An error for which trying again cannot help: rethrown at once. */
  isFatal?(error: unknown): boolean;
}

/**
 * Calls `fn` until it resolves, waiting with exponential backoff and full jitter between
 * attempts. There is no attempt limit: the caller bounds it with `signal` (detach, shutdown).
 */
export async function retryForever<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (options.signal.aborted) throw new ShutdownError();
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal.aborted) throw new ShutdownError();
      if (options.isFatal?.(error)) throw error;
      const delayMs = backoffDelay(attempt, options);
      options.onFailure(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}
