import { isTbiError, type Logger } from '@tbi/plugin-api';

const BACKOFF_MS = [200, 500, 1000, 2000, 5000];

/** What `retryUntilStopped` returns when the host is stopping instead of a result. */
export const STOPPED = Symbol('stopped');

/**
 * Runs `fn` until it succeeds, with backoff (0.2 s doubling-ish up to 5 s). Gives up with `STOPPED`
 * when the host is stopping: `fn` rejected with `ShutdownError`, or `stopping()` says so.
 */
export async function retryUntilStopped<T>(
  what: string,
  fn: () => Promise<T>,
  options: { stopping: () => boolean; logger: Logger },
): Promise<T | typeof STOPPED> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if ((isTbiError(error) && error.code === 'SHUTTING_DOWN') || options.stopping()) return STOPPED;
      const delay = backoffMs(attempt);
      options.logger.warn({ err: error, attempt: attempt + 1, retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Delay before retry number `attempt` (0-based). */
export function backoffMs(attempt: number): number {
  return BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
}
