import { describe, expect, it } from 'vitest';
import { ConfigError, ConverterError, DeliveryError, ShutdownError, TbiError } from './errors.js';
import { isRetryable, isShutdownError, markRetryable } from './error-guards.js';

describe('isShutdownError', () => {
  it('recognises ShutdownError, a copy of it by value, and an aborted signal', () => {
    expect(isShutdownError(new ShutdownError())).toBe(true);
    expect(isShutdownError(Object.assign(new TbiError('SHUTTING_DOWN', 'x')))).toBe(true);
    const abort = new AbortController();
    abort.abort();
    expect(isShutdownError(abort.signal.reason)).toBe(true);
    expect(isShutdownError(new DeliveryError('down'))).toBe(false);
    expect(isShutdownError(new Error('boom'))).toBe(false);
    expect(isShutdownError('SHUTTING_DOWN')).toBe(false);
  });
});

describe('isRetryable', () => {
  it('says no for shutdown, config, converter and non-retryable delivery errors; yes otherwise', () => {
    expect(isRetryable(new ShutdownError())).toBe(false);
    expect(isRetryable(new ConfigError({ path: 'x', expected: 'y' }))).toBe(false);
    expect(isRetryable(new ConverterError('THREW', 'x'))).toBe(false);
    expect(isRetryable(new DeliveryError('x', { retryable: false }))).toBe(false);
    expect(isRetryable(new DeliveryError('x'))).toBe(true);
    expect(isRetryable(new Error('ECONNREFUSED'))).toBe(true);
  });

  it('follows a mark on any error, over the error kind', () => {
    const e = markRetryable(new Error('HTTP 400'), false);
    expect(e.message).toBe('HTTP 400');
    expect(isRetryable(e)).toBe(false);
    expect(isRetryable(markRetryable(new DeliveryError('x', { retryable: false }), true))).toBe(true);
    expect(isRetryable(markRetryable(new ShutdownError(), true))).toBe(false);
  });
});
