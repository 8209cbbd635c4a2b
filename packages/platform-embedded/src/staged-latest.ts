import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { inTransaction } from './transaction.js';

/** A value's typed columns, in the order of the telemetry tables. */
export type Columns = [number | null, number | null, number | null, string | null, string | null];

/** One telemetry value as `IngestWriter` staged it. */
export interface StagedValue {
  deviceId: number;
  keyId: number;
  ts: number;
  columns: Columns;
}

const UPSERT = `INSERT INTO telemetry_latest (device_id, key_id, ts, bool_v, long_v, dbl_v, str_v, json_v)`;
const ON_CONFLICT = `ON CONFLICT (device_id, key_id) DO UPDATE SET ts = excluded.ts, bool_v = excluded.bool_v,
    long_v = excluded.long_v, dbl_v = excluded.dbl_v, str_v = excluded.str_v, json_v = excluded.json_v
  WHERE excluded.ts >= telemetry_latest.ts`;

/**
 * The newest value of each series among the values committed since the last merge, kept on the
 * writer thread so that `telemetry_latest` is written once per series per merge instead of once
 * per series per ingest call (that upsert cost about as much as the staged row itself; deriving
 * the values by SQL from the staged rows at merge time, a window over all of them, cost as much
 * again). Greatest ts wins, and of equal ts the last stored, as the upsert does.
 *
 * Only committed values enter (`IngestWriter.committed`), and the merge forgets them only once its
 * transaction has committed. A crash loses this memory but not the rows: `recover` derives the
 * same values from `telemetry_recent` by SQL when the writer thread starts.
 */
export class StagedLatest {
  private series = new Map<number, Map<number, StagedValue>>();
  private readonly upsert: StatementSync;
  private readonly fromStaged: StatementSync;

  constructor(private readonly db: DatabaseSync) {
    this.upsert = db.prepare(`${UPSERT} VALUES (?, ?, ?, ?, ?, ?, ?, ?) ${ON_CONFLICT}`);
    this.fromStaged = db.prepare(
      `${UPSERT}
       SELECT device_id, key_id, ts, bool_v, long_v, dbl_v, str_v, json_v FROM (
         SELECT *, row_number() OVER (PARTITION BY device_id, key_id ORDER BY ts DESC, rowid DESC) AS newest FROM telemetry_recent)
       WHERE newest = 1
       ${ON_CONFLICT}`,
    );
  }

  /** Takes in values that have committed, in the order they were stored. */
  add(values: readonly StagedValue[]): void {
    for (const value of values) {
      let keys = this.series.get(value.deviceId);
      if (keys === undefined) {
        keys = new Map();
        this.series.set(value.deviceId, keys);
      }
      const known = keys.get(value.keyId);
      if (known === undefined || value.ts >= known.ts) keys.set(value.keyId, value);
    }
  }

  /** Upserts every value into `telemetry_latest`, inside the caller's (merge) transaction. */
  write(): void {
    for (const keys of this.series.values()) {
      for (const v of keys.values()) this.upsert.run(v.deviceId, v.keyId, v.ts, ...v.columns);
    }
  }

  /** Forgets the values, once the transaction that wrote them has committed. */
  clear(): void {
    this.series = new Map();
  }

  /** After a restart: writes the latest values of the rows left staged (which may be newer). */
  recover(): void {
    inTransaction(this.db, 'recover latest telemetry', () => this.fromStaged.run());
  }
}
