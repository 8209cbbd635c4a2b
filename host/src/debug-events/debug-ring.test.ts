import { describe, expect, it } from 'vitest';
import { DebugRing, type DebugEventInput } from './debug-ring.js';

const event = (status: string): DebugEventInput => ({ time: 1, type: 'uplink', status, in: { metadata: {} }, logs: [], timings: {} });

describe('DebugRing', () => {
  it('keeps the newest `size` events, newest first, and tells live listeners', () => {
    const ring = new DebugRing('a', { mode: 'all', size: 3 });
    const live: number[] = [];
    const stop = ring.subscribe((e) => live.push(e.id));
    for (const s of ['1', '2', '3', '4', '5']) ring.record(event(s));
    expect(ring.list().map((e) => e.status)).toEqual(['5', '4', '3']);
    expect(ring.list({ afterId: 3 }).map((e) => e.id)).toEqual([5, 4]);
    stop();
    ring.record(event('6'));
    expect(live).toEqual([1, 2, 3, 4, 5]);
  });

  it('wants what its mode asks for, and falls back from a timed "all" to "failures"', async () => {
    const ring = new DebugRing('a');
    expect(ring.mode).toBe('failures');
    expect([ring.wants(true), ring.wants(false)]).toEqual([true, false]);
    ring.setMode('off');
    expect(ring.wants(true)).toBe(false);
    ring.setMode('all', { durationMs: 20 });
    expect(ring.wants(false)).toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    expect(ring.mode).toBe('failures');
  });
});
