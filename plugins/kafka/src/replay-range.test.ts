import { ConfigError } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { describePosition, formatCheckpoint, outsideTime, parseCheckpoint, planRange, replayBound, type PartitionOffsets } from './replay-range.js';

const parts: PartitionOffsets[] = [
  { topic: 't', partition: 1, earliest: 10n, latest: 50n, fromTime: 30n, toTime: -1n },
  { topic: 't', partition: 0, earliest: 0n, latest: 100n, fromTime: 40n, toTime: 70n },
];

describe('replay bounds and checkpoints of the kafka connector', () => {
  it('reads offsets in every notation, and says what is expected of a bad one', () => {
    expect(replayBound({ offset: '1200' }, 'from')).toEqual({ offsets: { all: 1200n } });
    expect(replayBound({ offset: 'earliest' }, 'from')).toEqual({ offsets: { earliest: true } });
    expect(replayBound({ offset: '0:12, 1:9' }, 'from')).toEqual({
      offsets: {
        each: [
          { partition: 0, offset: 12n },
          { partition: 1, offset: 9n },
        ],
      },
    });
    expect(replayBound({ offset: 'a.b-c:2:7' }, 'to')).toEqual({ offsets: { each: [{ topic: 'a.b-c', partition: 2, offset: 7n }] } });
    expect(replayBound({ time: 5 }, 'from')).toEqual({ time: 5 });
    let error: unknown;
    try {
      replayBound({ offset: '0:x' }, 'to');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(/replay\.to\.offset.*"0:1200,1:900"/s);
  });

  it('plans by time inside [earliest, latest): no record after `from` means nothing, none after `to` means the end', () => {
    const cp = planRange(parts, { time: 1 }, { time: 2 });
    expect(cp.partitions).toEqual([
      { topic: 't', partition: 0, start: 40n, next: 40n, end: 70n },
      { topic: 't', partition: 1, start: 30n, next: 30n, end: 50n },
    ]);
    expect(cp).toMatchObject({ fromMs: 1, toMs: 2 });
    const none = planRange([{ ...parts[0]!, fromTime: -1n }], { time: 1 }, undefined);
    expect(none.partitions[0]).toMatchObject({ start: 50n, end: 50n });
  });

  it('plans by offsets: clamped to the log, a partition left out of `from` is not replayed, one left out of `to` runs to the end', () => {
    expect(planRange(parts, { offsets: { all: 5n } }, undefined).partitions.map((p) => [p.start, p.end])).toEqual([
      [5n, 100n],
      [10n, 50n],
    ]);
    const cp = planRange(parts, { offsets: { each: [{ partition: 0, offset: 90n }] } }, { offsets: { each: [{ topic: 't', partition: 0, offset: 95n }] } });
    expect(cp.partitions.map((p) => [p.start, p.end])).toEqual([
      [90n, 95n],
      [50n, 50n],
    ]);
    expect(planRange(parts, { offsets: { all: 60n } }, { offsets: { all: 20n } }).partitions[0]).toMatchObject({ start: 60n, end: 60n });
  });

  it('a checkpoint survives its JSON; a foreign or damaged one is refused with the reason', () => {
    const cp = planRange(parts, { time: 1 }, undefined);
    cp.partitions[0]!.next = 55n;
    const back = parseCheckpoint(formatCheckpoint(cp));
    expect(back).toEqual(cp);
    expect(describePosition(back)).toBe('15 of 80 records; t:0 at 55/100, t:1 at 30/50');
    expect(() => parseCheckpoint('{"stream":"s","next":1}')).toThrow(/partitions/);
    expect(() => parseCheckpoint(JSON.stringify({ partitions: [['t', 0, '5', '9', '7']] }))).toThrow(/"next" must lie/);
    expect(() => parseCheckpoint('nope')).toThrow(/not JSON/);
  });

  it('leaves out records whose own timestamp is outside the time range', () => {
    expect(outsideTime({ fromMs: 10 })(9n)).toBe(true);
    expect(outsideTime({ fromMs: 10, toMs: 20 })(10n)).toBe(false);
    expect(outsideTime({ toMs: 20 })(20n)).toBe(true);
    expect(outsideTime({})(5n)).toBe(false);
  });
});
