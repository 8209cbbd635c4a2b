import { describe, expect, it } from 'vitest';
import { AckTracker } from './ack-tracker.js';

function tracker(...tags: number[]) {
  const t = new AckTracker();
  for (const tag of tags) t.add(tag);
  return t;
}

describe('AckTracker', () => {
  it('acks a contiguous run of done deliveries with one multiple ack', () => {
    const t = tracker(1, 2, 3, 4);
    t.done([1, 2, 3]);
    expect(t.settle(false)).toEqual({ upTo: 3, single: [] });
    expect(t.outstanding).toBe(1);
  });

  it('never acks past a delivery still in the pipeline', () => {
    const t = tracker(1, 2, 3);
    t.done([2, 3]);
    expect(t.settle(false)).toEqual({ single: [] });
    t.done([1]);
    expect(t.settle(false)).toEqual({ upTo: 3, single: [] });
    expect(t.outstanding).toBe(0);
  });

  it('eagerly acks done deliveries behind a pending one, one by one', () => {
    const t = tracker(1, 2, 3, 4);
    t.done([1, 3, 4]);
    expect(t.settle(true)).toEqual({ upTo: 1, single: [3, 4] });
    t.done([2]);
    expect(t.settle(true)).toEqual({ upTo: 2, single: [] });
  });

  it('does not ack a delivery settled by nack, and ends the multiple ack before it', () => {
    const t = tracker(1, 2, 3);
    t.done([1]);
    t.nacked(2);
    expect(t.settle(true)).toEqual({ upTo: 1, single: [] });
    t.nacked(3);
    expect(t.settle(true)).toEqual({ single: [] });
    expect(t.outstanding).toBe(0);
  });

  it('forgets everything of a closed channel', () => {
    const t = tracker(1, 2);
    t.done([1]);
    t.reset();
    t.add(1);
    expect(t.settle(true)).toEqual({ single: [] });
    expect(t.outstanding).toBe(1);
  });
});
