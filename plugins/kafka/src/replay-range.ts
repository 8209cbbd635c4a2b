import { ConfigError, openReplayCheckpoint, type ReplayPoint } from '@tbi/plugin-api';
import { partitionKey } from './offset-tracker.js';

/** One partition of a replay: `[start, end)` in offsets, `next` the first not yet handed over. */
export interface PartitionRange {
  topic: string;
  partition: number;
  start: bigint;
  next: bigint;
  end: bigint;
}

/** Where a replay stands; its JSON (offsets as strings) is each batch's `checkpoint`. */
export interface ReplayCheckpoint {
  /** Every partition of the replayed topics, sorted by topic and partition. */
  partitions: PartitionRange[];
  /** `from.time` (epoch ms): records with an earlier own timestamp are left out. */
  fromMs?: number;
  /** `to.time` (epoch ms): records at or after it are left out. */
  toMs?: number;
}

/**
 * A bound in offsets, as a user writes it: `1200` (that offset in every partition),
 * `0:1200,1:900` (per partition of every topic), `telemetry:0:1200` (one topic's partition), or
 * `earliest` / `latest`. Partitions a per-partition list leaves out are not bounded by it.
 */
export type OffsetBound = { earliest: true } | { latest: true } | { all: bigint } | { each: Array<{ topic?: string; partition: number; offset: bigint }> };

/** A replay bound: a time (ListOffsets by timestamp) or offsets. */
export type Bound = { time: number } | { offsets: OffsetBound };

const OFFSET_NOTATION =
  'an offset: "1200" (every partition), "0:1200,1:900" (per partition), "telemetry:0:1200" (per topic and partition), "earliest" or "latest"';

/** Reads `from` / `to` of a `ReplayRequest`; a bad offset throws a `ConfigError` saying what is expected. */
export function replayBound(point: ReplayPoint, field: 'from' | 'to'): Bound {
  if ('time' in point && typeof point.time === 'number' && Number.isSafeInteger(point.time) && point.time >= 0) return { time: point.time };
  if (!('offset' in point) || typeof point.offset !== 'string')
    throw new ConfigError({ path: `replay.${field}`, expected: '{ "offset": "..." } or { "time": <epoch ms> }', received: JSON.stringify(point) });
  const text = point.offset.trim();
  const bad = (): never => {
    throw new ConfigError({ path: `replay.${field}.offset`, expected: OFFSET_NOTATION, received: JSON.stringify(point.offset) });
  };
  if (text === 'earliest') return { offsets: { earliest: true } };
  if (text === 'latest') return { offsets: { latest: true } };
  if (/^\d+$/.test(text)) return { offsets: { all: BigInt(text) } };
  const each = text.split(',').map((entry) => {
    const m = /^(?:(.+):)?(\d+):(\d+)$/.exec(entry.trim());
    if (m === null) return bad();
    const partition = Number(m[2]);
    if (!Number.isSafeInteger(partition)) return bad();
    return m[1] === undefined ? { partition, offset: BigInt(m[3]!) } : { topic: m[1], partition, offset: BigInt(m[3]!) };
  });
  return { offsets: { each } };
}

/** What the broker said about one partition when the replay was planned. */
export interface PartitionOffsets {
  topic: string;
  partition: number;
  /** Log start offset. */
  earliest: bigint;
  /** High watermark now: a replay never reads past it, so it ends while live records arrive. */
  latest: bigint;
  /** First offset with a timestamp at or after `from.time` (-1: none), when `from` is a time. */
  fromTime?: bigint;
  /** The same for `to.time`. */
  toTime?: bigint;
}

/** The offset a bound names in one partition, or undefined when it leaves the partition unbounded. */
function boundOffset(bound: Bound, p: PartitionOffsets, side: 'from' | 'to'): bigint | undefined {
  if ('time' in bound) {
    const at = side === 'from' ? p.fromTime : p.toTime;
    return at === undefined || at < 0n ? p.latest : at;
  }
  const o = bound.offsets;
  if ('earliest' in o) return p.earliest;
  if ('latest' in o) return p.latest;
  if ('all' in o) return o.all;
  return o.each.find((e) => e.partition === p.partition && (e.topic === undefined || e.topic === p.topic))?.offset;
}

/**
 * The range to replay, per partition: from the `from` bound (a partition a per-partition `from`
 * leaves out is not replayed) up to the `to` bound, never outside `[earliest, latest)`.
 */
export function planRange(partitions: readonly PartitionOffsets[], from: Bound, to: Bound | undefined): ReplayCheckpoint {
  const clamp = (v: bigint, p: PartitionOffsets) => (v < p.earliest ? p.earliest : v > p.latest ? p.latest : v);
  const ranges = [...partitions]
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
    .map((p) => {
      const start = clamp(boundOffset(from, p, 'from') ?? p.latest, p);
      // Never before its start: a `to` earlier than `from` is an empty range.
      const end = clamp(to === undefined ? p.latest : (boundOffset(to, p, 'to') ?? p.latest), { ...p, earliest: start });
      return { topic: p.topic, partition: p.partition, start, next: start, end };
    });
  const checkpoint: ReplayCheckpoint = { partitions: ranges };
  if ('time' in from) checkpoint.fromMs = from.time;
  if (to !== undefined && 'time' in to) checkpoint.toMs = to.time;
  return checkpoint;
}

/** The checkpoint as JSON, offsets as decimal strings. */
export function formatCheckpoint(c: ReplayCheckpoint): string {
  return JSON.stringify({
    partitions: c.partitions.map((p) => [p.topic, p.partition, String(p.start), String(p.next), String(p.end)]),
    ...(c.fromMs === undefined ? {} : { fromMs: c.fromMs }),
    ...(c.toMs === undefined ? {} : { toMs: c.toMs }),
  });
}

/** Parses a `checkpoint` this connector wrote; a foreign or damaged one throws a `ConfigError`. */
export function parseCheckpoint(text: string): ReplayCheckpoint {
  const { value: v, bad } = openReplayCheckpoint(text, 'a checkpoint of a kafka replay, JSON {"partitions":[[topic, partition, start, next, end], …]}');
  if (!Array.isArray(v.partitions) || v.partitions.length === 0) return bad('"partitions" must be a non-empty list');
  const offset = (s: unknown) => (typeof s === 'string' && /^\d+$/.test(s) ? BigInt(s) : bad('offsets must be whole numbers in strings'));
  const partitions = v.partitions.map((entry: unknown) => {
    if (!Array.isArray(entry) || entry.length !== 5 || typeof entry[0] !== 'string' || !Number.isSafeInteger(entry[1]))
      return bad('a partition is [topic, partition, start, next, end]');
    const [topic, partition, start, next, end] = [entry[0] as string, entry[1] as number, offset(entry[2]), offset(entry[3]), offset(entry[4])];
    if (next < start || next > end) return bad(`in ${partitionKey(topic, partition)} "next" must lie from "start" to "end"`);
    return { topic, partition, start, next, end };
  });
  const checkpoint: ReplayCheckpoint = { partitions };
  for (const name of ['fromMs', 'toMs'] as const) {
    const ms = v[name];
    if (ms === undefined) continue;
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) return bad(`"${name}" must be epoch milliseconds`);
    checkpoint[name] = ms;
  }
  return checkpoint;
}

/**
 * The test of whether a record's own timestamp (epoch ms) puts it outside the replay's time range,
 * with the bounds converted to bigint once for the whole replay.
 */
export function outsideTime(c: Pick<ReplayCheckpoint, 'fromMs' | 'toMs'>): (timestampMs: bigint) => boolean {
  const from = c.fromMs === undefined ? undefined : BigInt(c.fromMs);
  const to = c.toMs === undefined ? undefined : BigInt(c.toMs);
  return (ts) => (from !== undefined && ts < from) || (to !== undefined && ts >= to);
}

/** Records in the whole range, and how many of them were handed over. */
export function progress(c: ReplayCheckpoint): { done: bigint; total: bigint } {
  let done = 0n;
  let total = 0n;
  for (const p of c.partitions) {
    done += p.next - p.start;
    total += p.end - p.start;
  }
  return { done, total };
}

/** `1200 of 5000 records; telemetry:0 at 400/1700, telemetry:1 at 800/1650 …` for people. */
export function describePosition(c: ReplayCheckpoint): string {
  const { done, total } = progress(c);
  const open = c.partitions.filter((p) => p.end > p.start);
  const shown = open.slice(0, 4).map((p) => `${partitionKey(p.topic, p.partition)} at ${p.next}/${p.end}`);
  return `${done} of ${total} records; ${shown.join(', ')}${open.length > 4 ? ` and ${open.length - 4} more partitions` : ''}`;
}
