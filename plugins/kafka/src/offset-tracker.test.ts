import { describe, expect, it } from 'vitest';
import { OffsetTracker } from './offset-tracker.js';

const p0 = { topic: 't', partition: 0 };
const p1 = { topic: 't', partition: 1 };

function tracker(generation = 1) {
  const t = new OffsetTracker();
  t.assign([p0, p1], generation);
  return t;
}

describe('OffsetTracker', () => {
  it('commits the offset after the last stored record of each partition', () => {
    const t = tracker();
    const a = t.add('t', 0, 0n, 9n, 3, 1)!;
    const b = t.add('t', 1, 5n, 5n, 4, 1)!;
    expect(t.commitPoints()).toEqual([]);
    t.complete(a);
    t.complete(b);
    expect(t.commitPoints()).toEqual([
      { topic: 't', partition: 0, offset: 10n, leaderEpoch: 3 },
      { topic: 't', partition: 1, offset: 6n, leaderEpoch: 4 },
    ]);
  });

  it('holds the commit point behind a batch that is still being stored', () => {
    const t = tracker();
    const first = t.add('t', 0, 0n, 9n, 0, 1)!;
    const second = t.add('t', 0, 10n, 19n, 0, 1)!;
    const third = t.add('t', 0, 20n, 29n, 0, 1)!;
    t.complete(second);
    t.complete(third);
    expect(t.commitPoints()).toEqual([]);
    t.complete(first);
    expect(t.commitPoints()).toEqual([{ topic: 't', partition: 0, offset: 30n, leaderEpoch: 0 }]);
  });

  it('offers a commit point once, again after a failed commit, and never backwards', () => {
    const t = tracker();
    t.complete(t.add('t', 0, 0n, 4n, 0, 1)!);
    const points = t.commitPoints();
    t.markCommitted(points);
    expect(t.commitPoints()).toEqual([]);
    t.uncommit(points);
    expect(t.commitPoints()).toEqual(points);
    t.markCommitted(points);
    // The consumer re-reads 0..4 after a rejoin: storing them again does not move the point back.
    t.complete(t.add('t', 0, 0n, 4n, 0, 1)!);
    expect(t.commitPoints()).toEqual([]);
    expect(t.committedOffsets()).toContainEqual({ topic: 't', partition: 0, offset: 5n });
  });

  it('a rewind behind the stored point keeps the point until the re-read catches up', () => {
    const t = tracker();
    t.complete(t.add('t', 0, 0n, 9n, 0, 1)!);
    t.markCommitted(t.commitPoints());
    const reread = t.add('t', 0, 5n, 9n, 0, 1)!;
    const next = t.add('t', 0, 10n, 14n, 0, 1)!;
    t.complete(next);
    expect(t.commitPoints()).toEqual([]);
    t.complete(reread);
    expect(t.commitPoints()).toEqual([{ topic: 't', partition: 0, offset: 15n, leaderEpoch: 0 }]);
  });

  it('drops revoked partitions and ignores their late results', () => {
    const t = tracker();
    const late = t.add('t', 1, 0n, 9n, 0, 1)!;
    const { added, revoked } = t.assign([p0], 2);
    expect(added).toEqual([]);
    expect(revoked).toEqual([p1]);
    t.complete(late);
    expect(t.commitPoints()).toEqual([]);
    expect(t.add('t', 1, 10n, 10n, 0, 2)).toBeUndefined();
    expect(t.owns('t', 1)).toBe(false);
  });

  it('reports records fetched before a partition was (re)assigned as stale', () => {
    const t = tracker(1);
    t.assign([p0, p1, { topic: 't', partition: 2 }], 5);
    expect(t.add('t', 2, 100n, 110n, 0, 4)).toBeUndefined();
    expect(t.add('t', 2, 90n, 99n, 0, 5)).toBeDefined();
    // Partitions kept through the rebalance keep accepting records fetched before it.
    expect(t.add('t', 0, 0n, 0n, 0, 1)).toBeDefined();
  });

  it('counts pending segments and forgets everything on reset', () => {
    const t = tracker();
    t.add('t', 0, 0n, 1n, 0, 1);
    const done = t.add('t', 1, 0n, 1n, 0, 1)!;
    t.complete(done);
    expect(t.pendingCount()).toBe(1);
    t.reset();
    expect(t.pendingCount()).toBe(0);
    expect(t.owns('t', 0)).toBe(false);
  });
});
