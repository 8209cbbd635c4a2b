import { ShutdownError } from './errors.js';

/**
 * Resolves after `ms`, or rejects with `ShutdownError` as soon as `signal` aborts (at once if it
 * already has). The timer does not keep the process alive.
 *
 * @example
 * await sleep(1000, ctx.signal); // stopping the integration ends the wait
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new ShutdownError());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ShutdownError());
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    timer.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
