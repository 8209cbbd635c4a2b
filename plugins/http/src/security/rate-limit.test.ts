import { describe, expect, it } from 'vitest';
import { rateLimiter } from './rate-limit.js';

describe('rateLimiter', () => {
  it('allows a burst, then refuses with the time until the next token', () => {
    let now = 0;
    const take = rateLimiter({ requestsPerSecond: 2, burst: 3 }, () => now);
    expect([take(), take(), take()].every((v) => v.ok)).toBe(true);
    expect(take()).toEqual({ ok: false, retryAfterMs: 500 });
    now = 250;
    expect(take()).toEqual({ ok: false, retryAfterMs: 250 });
    now = 500;
    expect(take()).toEqual({ ok: true });
    expect(take().ok).toBe(false);
  });

  it('refills up to the burst only', () => {
    let now = 0;
    const take = rateLimiter({ requestsPerSecond: 1, burst: 2 }, () => now);
    take();
    take();
    now = 60_000;
    expect([take().ok, take().ok, take().ok]).toEqual([true, true, false]);
  });

  it('defaults the burst to one second of requests, at least one', () => {
    const now = 0;
    const take = rateLimiter({ requestsPerSecond: 5 }, () => now);
    const results = Array.from({ length: 6 }, () => take().ok);
    expect(results).toEqual([true, true, true, true, true, false]);
    const slow = rateLimiter({ requestsPerSecond: 0.1 }, () => now);
    expect(slow().ok).toBe(true);
    expect(slow()).toEqual({ ok: false, retryAfterMs: 10_000 });
  });

  it('survives a clock that goes backwards', () => {
    let now = 1000;
    const take = rateLimiter({ requestsPerSecond: 1, burst: 1 }, () => now);
    take();
    now = 0;
    expect(take().ok).toBe(false);
  });
});
