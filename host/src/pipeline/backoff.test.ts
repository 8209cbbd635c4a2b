import { describe, expect, it } from 'vitest';
import { ShutdownError } from '@tbi/plugin-api';
import { backoffDelay, retryForever } from './backoff.js';

describe('backoff', () => {
  it('doubles the cap per attempt up to maxMs, with full jitter below it', () => {
    const top = (attempt: number) => backoffDelay(attempt, { initialMs: 100, maxMs: 30_000, random: () => 0.999999 });
    expect([1, 2, 3, 4].map(top)).toEqual([100, 200, 400, 800]);
    expect(top(20)).toBe(30_000);
    expect(top(5000)).toBe(30_000);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 30_000, random: () => 0 })).toBe(0);
  });

  it('retries until success and reports each failure with its attempt number', async () => {
    const attempts: number[] = [];
    let calls = 0;
    const value = await retryForever(
      async () => {
        if (++calls < 4) throw new Error(`fail ${calls}`);
        return 'done';
      },
      { initialMs: 1, maxMs: 2, signal: new AbortController().signal, onFailure: (_e, attempt) => attempts.push(attempt) },
    );
    expect(value).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('stops with ShutdownError when aborted while waiting, and rethrows fatal errors at once', async () => {
    const abort = new AbortController();
    const pending = retryForever(async () => { throw new Error('down'); }, {
      initialMs: 60_000, maxMs: 60_000, random: () => 1, signal: abort.signal, onFailure: () => abort.abort(),
    });
    await expect(pending).rejects.toBeInstanceOf(ShutdownError);
    const fatal = new Error('bad data');
    await expect(
      retryForever(async () => { throw fatal; }, { initialMs: 1, maxMs: 1, signal: new AbortController().signal, onFailure: () => {}, isFatal: (e) => e === fatal }),
    ).rejects.toBe(fatal);
  });
});
