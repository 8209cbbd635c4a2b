import { ConfigError, openReplayCheckpoint, type ReplayPoint } from '@tbi/plugin-api';
import type { MessageIdParts } from './driver/types.js';
import { compareMessageIds, formatMessageId, parseMessageId } from './message-id.js';

/** Where a replay of one topic stands; the JSON of each batch's `checkpoint`. Ids are `ledger:entry[:batch]`. */
export interface ReplayCheckpoint {
  /** The topic read (full name). */
  topic: string;
  /** First message of the range (inclusive). */
  start: string;
  /** The last message handed to the host; absent before the first batch. */
  after?: string;
  /** Exclusive end from `to`, when it lies before the tail. */
  end?: string;
  /** The topic's last message when the replay first started: it ends the replay, however much is published since. */
  tail: string;
  /** `from.time` (epoch ms): messages published earlier are left out. */
  fromTime?: number;
  /** `to.time` (epoch ms): messages published at or after it are left out. */
  toTime?: number;
  /** Messages handed over so far (for `position`). */
  read: number;
}

/** A bound of the range: a message id, or a publish time the broker turns into one. */
export type TopicPoint = { id: MessageIdParts } | { time: number };

const OFFSET_EXPECTED = 'a Pulsar message id: ledger:entry or ledger:entry:batch (e.g. 12:340), or the base64 messageId of a message';

/** A `ReplayPoint` as a bound: `{offset: "12:340"}` (or a base64 id) → that message, `{time}` → its publish time. */
export function topicPoint(point: ReplayPoint, field: 'from' | 'to'): TopicPoint {
  if ('offset' in point) {
    const id = typeof point.offset === 'string' ? parseMessageId(point.offset) : undefined;
    if (id === undefined) throw new ConfigError({ path: `replay.${field}.offset`, expected: OFFSET_EXPECTED, received: JSON.stringify(point.offset) });
    return { id };
  }
  if ('time' in point && typeof point.time === 'number' && Number.isFinite(point.time) && point.time >= 0) return { time: Math.floor(point.time) };
  throw new ConfigError({
    path: `replay.${field}`,
    expected: '{ "offset": "<ledger:entry[:batch]>" } or { "time": <epoch ms> }',
    received: JSON.stringify(point),
  });
}

/** Parses a `checkpoint` this connector wrote, checking it belongs to `topic`. */
export function parseCheckpoint(text: string, topic: string): ReplayCheckpoint {
  const { value: v, bad } = openReplayCheckpoint(
    text,
    'a checkpoint of a pulsar topic replay, JSON {"topic","start","tail","read"[,"after","end","fromTime","toTime"]}',
  );
  if (v.topic !== topic) return bad(`it is for topic ${JSON.stringify(v.topic)}, this replay reads "${topic}"`);
  const id = (name: string, optional = false) => {
    const s = v[name];
    if (optional && s === undefined) return undefined;
    const parsed = typeof s === 'string' && /^\d+:\d+(:\d+)?$/.test(s) ? parseMessageId(s) : undefined;
    return parsed === undefined ? bad(`"${name}" must be a message id ledger:entry[:batch]`) : formatMessageId(parsed);
  };
  const time = (name: string) => {
    const n = v[name];
    if (n === undefined) return undefined;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : bad(`"${name}" must be a time in epoch ms`);
  };
  const read = v.read;
  if (typeof read !== 'number' || !Number.isSafeInteger(read) || read < 0) return bad('"read" must be a whole number from 0');
  const checkpoint: ReplayCheckpoint = { topic, start: id('start') as string, tail: id('tail') as string, read };
  const after = id('after', true);
  const end = id('end', true);
  const fromTime = time('fromTime');
  const toTime = time('toTime');
  if (after !== undefined) checkpoint.after = after;
  if (end !== undefined) checkpoint.end = end;
  if (fromTime !== undefined) checkpoint.fromTime = fromTime;
  if (toTime !== undefined) checkpoint.toTime = toTime;
  if (after !== undefined && compareMessageIds(parseMessageId(after)!, parseMessageId(checkpoint.start)!) < 0)
    return bad('"after" must not lie before "start"');
  return checkpoint;
}

/** What one message read means for the replay: hand it over, skip it, or the range is over (after it, when `last`). */
export type Verdict = 'take' | 'skip' | 'end';

/**
 * Judges a message the reader delivered. The reader starts an entry early (its start is
 * exclusive and it cannot start inside a batch), so messages before `start` or up to `after` come
 * again and are skipped. The range ends at the first message at or past `end`, or after the
 * tail: the tail's own batch index when the broker gave one, else the last message of its entry
 * (`batchSize` in the delivered id).
 */
export function judge(
  id: MessageIdParts,
  publishTime: number | undefined,
  range: { start: MessageIdParts; after?: MessageIdParts; end?: MessageIdParts; tail: MessageIdParts; fromTime?: number; toTime?: number },
): { verdict: Verdict; last: boolean } {
  const { tail } = range;
  if (range.end !== undefined && compareMessageIds(id, range.end) >= 0) return { verdict: 'end', last: false };
  const entryVsTail = id.ledger - tail.ledger || id.entry - tail.entry;
  if (entryVsTail > 0) return { verdict: 'end', last: false };
  const last =
    entryVsTail === 0 && (tail.batch >= 0 ? Math.max(id.batch, 0) >= tail.batch : id.batch < 0 || id.batchSize === undefined || id.batch >= id.batchSize - 1);
  if (last && tail.batch >= 0 && id.batch > tail.batch) return { verdict: 'end', last: false };
  const before = compareMessageIds(id, range.start) < 0 || (range.after !== undefined && compareMessageIds(id, range.after) <= 0);
  if (before || outsideTime(publishTime, range)) return { verdict: 'skip', last };
  return { verdict: 'take', last };
}

/** Whether a message's publish time puts it outside the time range of a replay by time. */
export function outsideTime(publishTime: number | undefined, range: { fromTime?: number; toTime?: number }): boolean {
  if (publishTime === undefined) return false;
  if (range.fromTime !== undefined && publishTime < range.fromTime) return true;
  return range.toTime !== undefined && publishTime >= range.toTime;
}

/** `topic "persistent://public/default/t" at 12:340 (1200 read, tail 12:1999)` for people. */
export function describePosition(c: ReplayCheckpoint): string {
  const bound = c.end === undefined ? `tail ${c.tail}` : `end ${c.end}`;
  return `topic "${c.topic}" at ${c.after ?? c.start} (${c.read} read, ${bound})`;
}
