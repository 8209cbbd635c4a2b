import { isTbiError } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { parseMessageId } from './message-id.js';
import { describePosition, judge, outsideTime, parseCheckpoint, topicPoint } from './replay-range.js';

const id = (s: string) => parseMessageId(s)!;

describe('topicPoint', () => {
  it('takes a message id (ledger:entry[:batch] or base64) and a time in ms', () => {
    expect(topicPoint({ offset: '12:340' }, 'from')).toEqual({ id: { ledger: 12, entry: 340, batch: -1 } });
    expect(topicPoint({ offset: 'CAMQBTAA' }, 'to')).toEqual({ id: { ledger: 3, entry: 5, batch: -1 } });
    expect(topicPoint({ time: 1_700_000_000_999.5 }, 'from')).toEqual({ time: 1_700_000_000_999 });
  });

  it('refuses an offset that is not a message id, naming what it expected', () => {
    for (const offset of ['1200', '-1:2', 'abc!', '']) {
      expect(() => topicPoint({ offset }, 'from')).toThrow(/replay\.from\.offset: expected a Pulsar message id: ledger:entry/);
    }
    expect(() => topicPoint({ time: Number.NaN }, 'to')).toThrow(/replay\.to: expected \{ "offset"/);
  });
});

describe('parseCheckpoint', () => {
  const topic = 'persistent://public/default/t';
  const good = { topic, start: '3:10', after: '3:12:4', end: '4:0', tail: '4:7', fromTime: 1000, read: 23 };

  it('reads back what a batch wrote', () => {
    expect(parseCheckpoint(JSON.stringify(good), topic)).toEqual(good);
    const { after: _a, end: _e, fromTime: _f, ...bare } = good;
    expect(parseCheckpoint(JSON.stringify(bare), topic)).toEqual(bare);
  });

  it('refuses JSON that is not a checkpoint, of another topic, or out of range', () => {
    const cases: Array<[string, RegExp]> = [
      ['nope', /not JSON/],
      ['42', /not an object/],
      [JSON.stringify({ ...good, topic: 'other' }), /it is for topic "other", this replay reads "persistent:\/\/public\/default\/t"/],
      [JSON.stringify({ ...good, tail: 'x' }), /"tail" must be a message id/],
      [JSON.stringify({ ...good, after: 'CAMQBTAA' }), /"after" must be a message id/],
      [JSON.stringify({ ...good, read: -1 }), /"read" must be a whole number/],
      [JSON.stringify({ ...good, toTime: 'soon' }), /"toTime" must be a time/],
      [JSON.stringify({ ...good, after: '3:9' }), /"after" must not lie before "start"/],
    ];
    for (const [text, why] of cases) {
      let error: unknown;
      try {
        parseCheckpoint(text, topic);
      } catch (e) {
        error = e;
      }
      expect(isTbiError(error) && error.code).toBe('CONFIG_INVALID');
      expect((error as Error).message).toMatch(/^replay\.resume: expected a checkpoint of a pulsar topic replay/);
      expect((error as Error).message).toMatch(why);
    }
  });
});

describe('judge', () => {
  const range = { start: id('3:10'), tail: id('5:4') };

  it('skips what the reader delivers before the start or up to the last message handed over', () => {
    expect(judge(id('3:9'), undefined, range)).toEqual({ verdict: 'skip', last: false });
    expect(judge(id('3:10'), undefined, range)).toEqual({ verdict: 'take', last: false });
    expect(judge(id('3:12:4'), undefined, { ...range, after: id('3:12:4') })).toEqual({ verdict: 'skip', last: false });
    expect(judge(id('3:12:5'), undefined, { ...range, after: id('3:12:4') })).toEqual({ verdict: 'take', last: false });
  });

  it('ends at `to` (exclusive), or after the tail: its batch index, else the last message of its entry', () => {
    expect(judge(id('4:0'), undefined, { ...range, end: id('4:0') })).toEqual({ verdict: 'end', last: false });
    expect(judge(id('4:0:3'), undefined, { ...range, end: id('4:0:3') })).toEqual({ verdict: 'end', last: false });
    expect(judge(id('4:0:2'), undefined, { ...range, end: id('4:0:3') })).toEqual({ verdict: 'take', last: false });
    expect(judge(id('5:4'), undefined, range)).toEqual({ verdict: 'take', last: true });
    expect(judge(id('5:5'), undefined, range)).toEqual({ verdict: 'end', last: false });
    expect(judge(id('6:0'), undefined, range)).toEqual({ verdict: 'end', last: false });
    const batchedTail = { ...range, tail: id('5:4:2') };
    expect(judge(id('5:4:1'), undefined, batchedTail)).toEqual({ verdict: 'take', last: false });
    expect(judge(id('5:4:2'), undefined, batchedTail)).toEqual({ verdict: 'take', last: true });
    const entryTail = { ...range, tail: id('5:4') };
    expect(judge({ ...id('5:4:8'), batchSize: 10 }, undefined, entryTail)).toEqual({ verdict: 'take', last: false });
    expect(judge({ ...id('5:4:9'), batchSize: 10 }, undefined, entryTail)).toEqual({ verdict: 'take', last: true });
    // Resumed after the tail itself: it comes again, is skipped, and ends the replay.
    expect(judge(id('5:4'), undefined, { ...range, after: id('5:4') })).toEqual({ verdict: 'skip', last: true });
  });

  it('leaves out messages published outside a time range', () => {
    const timed = { ...range, fromTime: 100, toTime: 200 };
    expect(judge(id('3:11'), 99, timed).verdict).toBe('skip');
    expect(judge(id('3:11'), 100, timed).verdict).toBe('take');
    expect(judge(id('3:11'), 200, timed).verdict).toBe('skip');
  });
});

describe('outsideTime', () => {
  it('is before from or at/after to; a message without a publish time is kept', () => {
    const range = { fromTime: 100, toTime: 200 };
    expect([99, 100, 199, 200].map((t) => outsideTime(t, range))).toEqual([true, false, false, true]);
    expect(outsideTime(undefined, range)).toBe(false);
    expect(outsideTime(1, {})).toBe(false);
  });
});

it('describePosition names the topic, the last message read and the bound', () => {
  const topic = 'persistent://public/default/t';
  expect(describePosition({ topic, start: '3:0', after: '3:1199', tail: '3:1999', read: 1200 })).toBe(`topic "${topic}" at 3:1199 (1200 read, tail 3:1999)`);
  expect(describePosition({ topic, start: '3:0', end: '3:500', tail: '3:1999', read: 0 })).toBe(`topic "${topic}" at 3:0 (0 read, end 3:500)`);
});
