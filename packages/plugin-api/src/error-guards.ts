import { isTbiError } from './errors.js';

const RETRYABLE = Symbol.for('tbi.retryable');

/**
 * True when the error means "the host or the integration is stopping" (a `ShutdownError`, from
 * any copy of this package, or the `AbortError` of an aborted `ctx.signal`). Leave the message
 * unacknowledged and stop quietly: it is not a failure.
 *
 * @example
 * try { await ctx.uplink.submit(batch); ack(batch); } catch (e) { if (!isShutdownError(e)) throw e; }
 */
export function isShutdownError(error: unknown): boolean {
  if (isTbiError(error)) return error.code === 'SHUTTING_DOWN';
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Marks any error (a driver's, a `fetch` failure) as worth retrying or not, so `retry` and the
 * host decide without comparing codes. Returns the same error.
 *
 * @example
 * if (res.status >= 400 && res.status < 500) throw markRetryable(new DeliveryError(`HTTP ${res.status}`), false);
 */
export function markRetryable<E>(error: E, retryable: boolean): E {
  if (typeof error === 'object' && error !== null) {
    Object.defineProperty(error, RETRYABLE, { value: retryable, configurable: true, enumerable: false });
  }
  return error;
}

/**
 * Whether trying again may help. No for shutdown, for configuration and converter errors, and
 * for errors marked or constructed non-retryable (`markRetryable(e, false)`,
 * `new DeliveryError(msg, { retryable: false })`); yes for everything else (network errors,
 * timeouts, a platform that is down).
 */
export function isRetryable(error: unknown): boolean {
  if (isShutdownError(error)) return false;
  if (typeof error === 'object' && error !== null) {
    const marked = (error as Record<symbol, unknown>)[RETRYABLE];
    if (typeof marked === 'boolean') return marked;
  }
  if (isTbiError(error)) {
    const own = (error as { retryable?: unknown }).retryable;
    if (typeof own === 'boolean') return own;
    return !(error.code === 'CONFIG_INVALID' || error.code.startsWith('CONVERTER_'));
  }
  return true;
}
