import { describe, expect, it } from 'vitest';
import { replayGuard } from './replay-guard.js';

describe('replayGuard', () => {
  it('refuses a key seen within the window and accepts it again after', () => {
    let now = 1_000_000;
    const guard = replayGuard({ windowMs: 60_000, maxEntries: 100 }, () => now);
    expect(guard.claim('a', now)).toBe(true);
    expect(guard.claim('a', now)).toBe(false);
    expect(guard.claim('b', now)).toBe(true);
    now += 59_999;
    expect(guard.claim('a', now - 59_999)).toBe(false);
    now += 2;
    // Its timestamp is stale by now: the HMAC check refuses it before the guard is asked.
    expect(guard.claim('a', now - 60_001)).toBe(true);
  });

  it('keeps a key until its own timestamp leaves the window, not the arrival time', () => {
    let now = 1_000_000;
    const guard = replayGuard({ windowMs: 60_000, maxEntries: 100 }, () => now);
    // Sent 50 s in the future (a skewed clock): valid until 110 s from now.
    expect(guard.claim('f', now + 50_000)).toBe(true);
    now += 100_000;
    expect(guard.claim('f', now - 50_000)).toBe(false);
  });

  it('forgets a released key, so the sender can retry a request that was not stored', () => {
    const guard = replayGuard({ windowMs: 60_000, maxEntries: 100 }, () => 0);
    expect(guard.claim('a', 0)).toBe(true);
    guard.release('a');
    expect(guard.claim('a', 0)).toBe(true);
  });

  it('stays within maxEntries, forgetting the oldest first, and drops expired entries', () => {
    let now = 0;
    const guard = replayGuard({ windowMs: 1000, maxEntries: 3 }, () => now);
    for (const key of ['a', 'b', 'c', 'd']) expect(guard.claim(key, now)).toBe(true);
    expect(guard.size).toBe(3);
    expect(guard.claim('a', now)).toBe(true); // forgotten
    expect(guard.claim('d', now)).toBe(false);
    now += 5000;
    expect(guard.claim('e', now)).toBe(true);
    expect(guard.size).toBe(1);
  });
});
