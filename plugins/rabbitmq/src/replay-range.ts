import { ConfigError, openReplayCheckpoint, type ReplayPoint } from '@tbi/plugin-api';

/** Where a replay of one stream stands; the JSON of each batch's `checkpoint`. */
export interface ReplayCheckpoint {
  /** The stream read. */
  stream: string;
  /** First offset not yet handed to the host. */
  next: number;
  /** First offset of the range (for `total`). */
  start: number;
  /** Exclusive end offset, fixed when the replay first started. */
  end: number;
  /** `from.time` in AMQP seconds, when the range was given by time (messages with an earlier own timestamp are left out). */
  fromSec?: number;
  /** `to.time` in AMQP seconds (messages with a later own timestamp are left out). */
  toSec?: number;
}

/** Where a replay starts, as `x-stream-offset` takes it: an offset or an AMQP timestamp (seconds). */
export type StreamStart = { offset: number } | { timestampSec: number };

/**
 * A `ReplayPoint` as a stream position: `{offset: "1200"}` → offset 1200, `{time: ms}` → the
 * AMQP timestamp in whole seconds (rounded down; streams place it at a chunk boundary).
 */
export function streamPoint(point: ReplayPoint, field: 'from' | 'to'): StreamStart {
  if ('offset' in point) {
    const text = String(point.offset).trim();
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
      throw new ConfigError({
        path: `replay.${field}.offset`,
        expected: 'a stream offset: a whole number from 0 (the x-stream-offset of a message)',
        received: JSON.stringify(point.offset),
      });
    return { offset: Number(text) };
  }
  if ('time' in point && typeof point.time === 'number' && Number.isFinite(point.time) && point.time >= 0)
    return { timestampSec: Math.floor(point.time / 1000) };
  throw new ConfigError({ path: `replay.${field}`, expected: '{ "offset": "<stream offset>" } or { "time": <epoch ms> }', received: JSON.stringify(point) });
}

/** Parses a `checkpoint` this connector wrote, checking it belongs to `stream`. */
export function parseCheckpoint(text: string, stream: string): ReplayCheckpoint {
  const { value: v, bad } = openReplayCheckpoint(text, 'a checkpoint of a rabbitmq stream replay, JSON {"stream","next","start","end"}');
  const offset = (name: string, optional = false) => {
    const n = v[name];
    if (optional && n === undefined) return undefined;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return bad(`"${name}" must be a whole number from 0`);
    return n;
  };
  if (v.stream !== stream) return bad(`it is for stream ${JSON.stringify(v.stream)}, this replay reads "${stream}"`);
  const checkpoint: ReplayCheckpoint = { stream, next: offset('next') as number, start: offset('start') as number, end: offset('end') as number };
  const fromSec = offset('fromSec', true);
  const toSec = offset('toSec', true);
  if (fromSec !== undefined) checkpoint.fromSec = fromSec;
  if (toSec !== undefined) checkpoint.toSec = toSec;
  if (checkpoint.next < checkpoint.start || checkpoint.next > checkpoint.end) return bad('"next" must lie from "start" to "end"');
  return checkpoint;
}

/** Whether a message's own AMQP `timestamp` (seconds, when the publisher set it) puts it outside the time range. */
export function outsideTime(timestampSec: number | undefined, range: Pick<ReplayCheckpoint, 'fromSec' | 'toSec'>): boolean {
  if (timestampSec === undefined) return false;
  if (range.fromSec !== undefined && timestampSec < range.fromSec) return true;
  return range.toSec !== undefined && timestampSec >= range.toSec;
}

/** `stream "telemetry" offset 41200 (1200 of 5000)` for people. */
export function describePosition(c: ReplayCheckpoint): string {
  return `stream "${c.stream}" offset ${c.next} (${c.next - c.start} of ${c.end - c.start}, end ${c.end})`;
}
