import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from './backoff.js';
import { DeliveryError, ShutdownError } from './errors.js';
import { isShutdownError } from './error-guards.js';
import { retry } from './retry.js';
import { sleep } from './sleep.js';

describe('backoffDelay', () => {
  it('doubles a capped ceiling and draws below it (full jitter), or nearer it with less jitter', () => {
    const top = { initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5, 40].map((a) => backoffDelay(a, top))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, { ...top, random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { ...top, random: () => 0, jitter: 0.25 })).toBe(300);
    expect(backoffDelay(3, { ...top, random: () => 0.5, jitter: 0 })).toBe(400);
  });

  it('Backoff counts attempts, waits abortably and resets', async () => {
    const b = new Backoff({ initialDelayMs: 10, maxDelayMs: 40, random: () => 0.999999 });
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([10, 20, 40, 40]);
    expect(b.attempt).toBe(4);
    b.reset();
    expect(b.next()).toBe(10);
    const abort = new AbortController();
    const waiting = new Backoff({ initialDelayMs: 60_000 }).wait(abort.signal);
    abort.abort();
    await expect(waiting).rejects.toBeInstanceOf(ShutdownError);
  });
});

describe('retry', () => {
  it('retries retryable failures with hooks, then resolves', async () => {
    const attempts: number[] = [];
    const retries: Array<[number, number]> = [];
    const result = await retry(
      async (attempt) => {
        if (attempt < 3) throw new DeliveryError('down');
        return 'ok';
      },
      { initialDelayMs: 1, maxDelayMs: 2, onAttempt: (a) => attempts.push(a), onRetry: ({ attempt, delayMs }) => retries.push([attempt, delayMs]) },
    );
    expect(result).toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
    expect(retries.map(([a]) => a)).toEqual([1, 2]);
    expect(retries.every(([, d]) => d >= 0 && d <= 2)).toBe(true);
  });

  it('throws a non-retryable error at once and the last error after maxAttempts', async () => {
    let calls = 0;
    const fatal = new DeliveryError('bad request', { retryable: false });
    await expect(
      retry(
        async () => {
          calls++;
          throw fatal;
        },
        { initialDelayMs: 1 },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error(`n${calls}`);
        },
        { initialDelayMs: 1, maxAttempts: 3 },
      ),
    ).rejects.toThrow('n3');
    expect(calls).toBe(3);
  });

  it("waits at least an error's retryAfterMs (a Retry-After), capped by maxDelayMs", async () => {
    const delays: number[] = [];
    let calls = 0;
    await retry(
      async () => {
        calls++;
        if (calls === 1) throw new DeliveryError('HTTP 429', { retryAfterMs: 30 });
        if (calls === 2) throw new DeliveryError('HTTP 503', { retryAfterMs: 60_000 });
      },
      { initialDelayMs: 1, maxDelayMs: 50, jitter: 0, onRetry: ({ delayMs }) => delays.push(delayMs) },
    );
    expect(delays).toEqual([30, 50]);
  });

  it('stops with ShutdownError when the signal aborts during a wait, without another attempt', async () => {
    const abort = new AbortController();
    let calls = 0;
    const started = Date.now();
    const running = retry(
      async () => {
        calls++;
        throw new Error('down');
      },
      { signal: abort.signal, initialDelayMs: 60_000, jitter: 0 },
    );
    await sleep(20);
    abort.abort();
    const error = await running.catch((e: unknown) => e);
    expect(isShutdownError(error)).toBe(true);
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
