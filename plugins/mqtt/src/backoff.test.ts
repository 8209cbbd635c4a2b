import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const b = { initialDelayMs: 1000, maxDelayMs: 30_000, jitter: 0.2 };
  it('doubles from the initial delay up to the maximum', () => {
    const mid = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffDelay(n, b, mid))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
  it('spreads each delay by the jitter', () => {
    expect(backoffDelay(1, b, () => 0)).toBe(800);
    expect(backoffDelay(1, b, () => 1)).toBe(1200);
  });
});
