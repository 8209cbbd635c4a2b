import { ShutdownError, isTbiError } from '@tbi/plugin-api';

// Stand-in for the plugin kit's `Backoff` and `retry` (issue 12), with the same shapes: when the
// kit lands, this file becomes `export { Backoff, retry } from '@tbi/plugin-api'`. Every wait of
// this package (reconnects, retried broker calls) goes through here.

export interface BackoffOptions {
  /** Cap of the first delay, in ms. */
  initialDelayMs?: number;
  /** Largest cap, in ms; the cap doubles per attempt up to this. */
  maxDelayMs?: number;
}

/** Capped exponential delays with full jitter; `reset` after a success. */
export class Backoff {
  #attempt = 0;
  constructor(private readonly options: BackoffOptions = {}) {}
  get attempt(): number {
    return this.#attempt;
  }
  next(): number {
    this.#attempt += 1;
    const initial = this.options.initialDelayMs ?? 100;
    const cap = Math.min(this.options.maxDelayMs ?? 30_000, initial * 2 ** Math.min(this.#attempt - 1, 30));
    return Math.round(cap * Math.random());
  }
  reset(): void {
    this.#attempt = 0;
  }
}

/** True for the host's `ShutdownError` and an aborted signal's `AbortError`. */
export function isShutdownError(error: unknown): boolean {
  if (isTbiError(error)) return error.code === 'SHUTTING_DOWN';
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Calls `fn` until it resolves, with backoff between attempts; throws `ShutdownError` once
 * `signal` aborts (also mid-wait) and at once for a shutdown error from `fn`.
 */
export async function retry<T>(
  fn: () => Promise<T>,
  options: BackoffOptions & { signal?: AbortSignal; onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void },
): Promise<T> {
  const backoff = new Backoff(options);
  for (;;) {
    if (options.signal?.aborted) throw new ShutdownError();
    try {
      return await fn();
    } catch (error) {
      if (isShutdownError(error) || options.signal?.aborted) throw isShutdownError(error) ? error : new ShutdownError();
      const delayMs = backoff.next();
      options.onRetry?.({ error, attempt: backoff.attempt, delayMs });
      await sleep(delayMs, options.signal);
    }
  }
}

/** Waits `ms`; rejects with `ShutdownError` when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ShutdownError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ShutdownError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
