import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { checkInteger } from './device-queries.js';
import { invalidArgument } from './errors.js';
import { decodeValue, type TypedColumns } from './typed-value.js';
import type { AggregatedPoint, Aggregation, TelemetryPoint, TelemetryQuery } from './types.js';

const AGGREGATIONS: readonly Aggregation[] = ['min', 'max', 'avg', 'count', 'none'];
const MAX_LIMIT = 100_000;

type ValueRow = TypedColumns & { ts: number };

// A key's values live in two tables: `telemetry` (clustered) and `telemetry_recent` (staged rows
// not merged yet, see `telemetry-merge.ts`). A staged row wins over a merged one of the same ts,
// and among staged rows of the same ts the last one stored (highest rowid: SQLite takes the bare
// columns from the row of max()). `telemetry_recent` is kept small by the merge, so scanning it
// costs a few ms at most, and the clustered side is read along its primary key as before.
const RECENT = `
  recent AS MATERIALIZED (
    SELECT ts, bool_v, long_v, dbl_v, str_v, json_v, max(rowid) AS seq FROM telemetry_recent
    WHERE device_id = :device AND key_id = :key AND ts >= :from AND ts < :to GROUP BY ts)`;
const MERGED = `
  SELECT ts, bool_v, long_v, dbl_v, str_v, json_v FROM telemetry
  WHERE device_id = :device AND key_id = :key AND ts >= :from AND ts < :to AND ts NOT IN (SELECT ts FROM recent)`;

// Integer arithmetic needs integer operands: node:sqlite binds every JS number as REAL.
const BUCKETS = (order: 'ASC' | 'DESC') => `
  WITH ${RECENT},
  points AS (SELECT ts, bool_v, long_v, dbl_v, str_v, json_v FROM recent UNION ALL ${MERGED})
  SELECT CAST(:from AS INTEGER) + ((ts - CAST(:from AS INTEGER)) / CAST(:interval AS INTEGER)) * CAST(:interval AS INTEGER) AS bucket,
         min(coalesce(long_v, dbl_v)) AS min, max(coalesce(long_v, dbl_v)) AS max,
         avg(coalesce(long_v, dbl_v)) AS avg, count(*) AS count
  FROM points
  GROUP BY bucket ORDER BY bucket ${order} LIMIT :limit`;

// A compound SELECT with ORDER BY: SQLite merges the two ordered sides, so the clustered side is
// read in key order and stops at the limit.
const RAW = (order: 'ASC' | 'DESC') => `
  WITH ${RECENT}
  SELECT ts, bool_v, long_v, dbl_v, str_v, json_v FROM recent
  UNION ALL ${MERGED}
  ORDER BY ts ${order} LIMIT :limit`;

// The newest value of each key of a device: `telemetry_latest` holds it as of the last merge, a
// staged row may be newer (the merge writes `telemetry_latest`). Greatest ts wins, then the last
// stored (a staged row over the merged value, a higher rowid among staged rows), as the upsert does.
const LATEST = `
  WITH candidates AS (
    SELECT key_id, ts, 0 AS seq, bool_v, long_v, dbl_v, str_v, json_v FROM telemetry_latest WHERE device_id = :device
    UNION ALL
    SELECT key_id, ts, rowid AS seq, bool_v, long_v, dbl_v, str_v, json_v FROM telemetry_recent WHERE device_id = :device),
  ranked AS (
    SELECT *, row_number() OVER (PARTITION BY key_id ORDER BY ts DESC, seq DESC) AS newest FROM candidates)
  SELECT k.key, r.ts, r.bool_v, r.long_v, r.dbl_v, r.str_v, r.json_v
  FROM ranked r JOIN telemetry_keys k ON k.id = r.key_id WHERE r.newest = 1 ORDER BY k.key`;

/** Latest values and time-series reads. */
export class TelemetryQueries {
  private readonly latestRows: StatementSync;
  private readonly keyId: StatementSync;
  private readonly raw: Record<'asc' | 'desc', StatementSync>;
  private readonly buckets: Record<'asc' | 'desc', StatementSync>;

  constructor(db: DatabaseSync) {
    this.latestRows = db.prepare(LATEST);
    this.keyId = db.prepare('SELECT id FROM telemetry_keys WHERE key = ?');
    this.raw = { asc: db.prepare(RAW('ASC')), desc: db.prepare(RAW('DESC')) };
    this.buckets = { asc: db.prepare(BUCKETS('ASC')), desc: db.prepare(BUCKETS('DESC')) };
  }

  /** The newest value of each key (of the given keys only, when given). */
  latest(deviceId: number, keys?: readonly string[]): Record<string, TelemetryPoint> {
    const wanted = keys && keys.length > 0 ? new Set(keys) : undefined;
    const out: Record<string, TelemetryPoint> = {};
    for (const row of this.latestRows.all({ device: deviceId }) as unknown as (ValueRow & { key: string })[]) {
      if (wanted === undefined || wanted.has(row.key)) out[row.key] = { ts: row.ts, value: decodeValue(row) };
    }
    return out;
  }

  series(deviceId: number, key: string, query: TelemetryQuery): (TelemetryPoint | AggregatedPoint)[] {
    const { from, to } = query;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from >= to) {
      throw invalidArgument('from and to must be integers (epoch ms) with from < to', { from, to });
    }
    const agg = query.agg ?? 'none';
    if (!AGGREGATIONS.includes(agg)) throw invalidArgument(`agg must be one of ${AGGREGATIONS.join(', ')}`, { agg });
    const order = query.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw invalidArgument('order must be asc or desc', { order });
    const limit = checkInteger('limit', query.limit, 1, MAX_LIMIT, agg === 'none' ? 100 : 10_000);
    const keyRow = this.keyId.get(key) as { id: number } | undefined;
    if (keyRow === undefined) return [];
    const params = { device: deviceId, key: keyRow.id, from, to, limit };
    if (agg === 'none') {
      return (this.raw[order].all(params) as unknown as ValueRow[]).map((r) => ({ ts: r.ts, value: decodeValue(r) }));
    }
    const interval = checkInteger('intervalMs', query.intervalMs, 1, Number.MAX_SAFE_INTEGER, to - from);
    const rows = this.buckets[order].all({ ...params, interval }) as unknown as {
      bucket: number;
      min: number | null;
      max: number | null;
      avg: number | null;
      count: number;
    }[];
    return rows.map((r) => ({ ts: r.bucket, value: agg === 'count' ? r.count : r[agg], count: r.count }));
  }
}
