import { describe, expect, it } from 'vitest';
import { AckTracker } from './ack-tracker.js';

describe('AckTracker', () => {
  it('acknowledges in arrival order, holding back those whose predecessors are not settled', () => {
    const sent: number[] = [];
    const t = new AckTracker((id) => sent.push(id));
    const [a, b, c] = [t.track(1, 1), t.track(2, 1), t.track(3, 2)];
    expect(t.settle(b)).toBe(0);
    expect(t.settle(c)).toBe(0);
    expect(sent).toEqual([]);
    expect(t.settle(a)).toBe(3);
    expect(sent).toEqual([1, 2, 3]);
    expect(t.pending).toBe(0);
  });

  it('never acknowledges a delivery of an earlier connection', async () => {
    const sent: number[] = [];
    const t = new AckTracker((id) => sent.push(id));
    const old = t.track(7, 1);
    const idle = t.idle();
    t.newEpoch();
    await idle; // a new connection releases whoever waited
    const fresh = t.track(7, 1);
    t.settle(old);
    expect(sent).toEqual([]);
    t.settle(fresh);
    expect(sent).toEqual([7]);
  });

  it('stays correct across many deliveries (internal compaction)', () => {
    let count = 0;
    const t = new AckTracker(() => count++);
    const all = Array.from({ length: 5000 }, (_, i) => t.track((i % 65535) + 1, 1));
    for (const d of all) t.settle(d);
    expect(count).toBe(5000);
    expect(t.pending).toBe(0);
  });
});
