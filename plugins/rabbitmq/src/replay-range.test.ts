import { isTbiError } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { describePosition, outsideTime, parseCheckpoint, streamPoint } from './replay-range.js';

describe('streamPoint', () => {
  it('takes a numeric offset and a time in whole seconds, rounded down', () => {
    expect(streamPoint({ offset: '1200' }, 'from')).toEqual({ offset: 1200 });
    expect(streamPoint({ offset: ' 0 ' }, 'to')).toEqual({ offset: 0 });
    expect(streamPoint({ time: 1_700_000_000_999 }, 'from')).toEqual({ timestampSec: 1_700_000_000 });
  });

  it('refuses an offset that is not a whole number, naming what it expected', () => {
    for (const offset of ['-1', '0:12', 'abc', '1.5', '']) {
      expect(() => streamPoint({ offset }, 'from')).toThrow(/replay\.from\.offset: expected a stream offset: a whole number from 0/);
    }
    expect(() => streamPoint({ time: Number.NaN }, 'to')).toThrow(/replay\.to: expected \{ "offset"/);
  });
});

describe('parseCheckpoint', () => {
  const good = { stream: 's', next: 5, start: 2, end: 10, fromSec: 7 };

  it('reads back what a batch wrote', () => {
    expect(parseCheckpoint(JSON.stringify(good), 's')).toEqual(good);
  });

  it('refuses JSON that is not a checkpoint, of another stream, or out of range', () => {
    const cases: Array<[string, RegExp]> = [
      ['nope', /not JSON/],
      ['42', /not an object/],
      [JSON.stringify({ ...good, stream: 'other' }), /it is for stream "other", this replay reads "s"/],
      [JSON.stringify({ ...good, next: -1 }), /"next" must be a whole number/],
      [JSON.stringify({ ...good, next: 11 }), /"next" must lie from "start" to "end"/],
      [JSON.stringify({ ...good, fromSec: 'x' }), /"fromSec" must be a whole number/],
    ];
    for (const [text, why] of cases) {
      let error: unknown;
      try {
        parseCheckpoint(text, 's');
      } catch (e) {
        error = e;
      }
      expect(isTbiError(error) && error.code).toBe('CONFIG_INVALID');
      expect((error as Error).message).toMatch(/^replay\.resume: expected a checkpoint of a rabbitmq stream replay/);
      expect((error as Error).message).toMatch(why);
    }
  });
});

describe('outsideTime', () => {
  it('leaves out messages whose own timestamp is before from or at/after to; keeps those without one', () => {
    const range = { fromSec: 100, toSec: 200 };
    expect(outsideTime(99, range)).toBe(true);
    expect(outsideTime(100, range)).toBe(false);
    expect(outsideTime(199, range)).toBe(false);
    expect(outsideTime(200, range)).toBe(true);
    expect(outsideTime(undefined, range)).toBe(false);
    expect(outsideTime(1, {})).toBe(false);
  });
});

it('describePosition counts from the start of the range', () => {
  expect(describePosition({ stream: 't', next: 1200, start: 1000, end: 6000 })).toBe('stream "t" offset 1200 (200 of 5000, end 6000)');
});
