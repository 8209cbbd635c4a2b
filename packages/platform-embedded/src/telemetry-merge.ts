import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { StagedLatest } from './staged-latest.js';
import { inTransaction } from './transaction.js';

export interface MergeSettings {
  /** Merge once at least this many rows wait in `telemetry_recent`. */
  rows: number;
  /** Most rows moved per merge transaction (a backlog is moved in several). */
  maxRowsPerMerge: number;
  /** Called before each transaction (the writer thread lets the main thread's writes go first). */
  beforeTransaction?: () => void;
}

/**
 * Moves telemetry from the staging table `telemetry_recent` into the clustered `telemetry` table,
 * on the writer thread.
 *
 * Why: `telemetry` is clustered on (device, key, ts), so a batch of 1000 records of 1000 devices
 * dirtied a leaf page per series (about 3000 pages, 12 MB of WAL per commit). Ingest now appends
 * to `telemetry_recent` (a rowid table: consecutive pages), and a merge writes each series' page
 * once for every point that series received since the last merge. A merge is one transaction:
 * a crash before it loses nothing (the rows are in `telemetry_recent`), a crash during it rolls
 * it back. Rows are moved in rowid order within each (device, key, ts), so a value stored again
 * at the same ts replaces the older one, as `INSERT OR REPLACE` into `telemetry` did.
 *
 * The merge also writes `telemetry_latest`, from the newest values committed since the last merge
 * (`staged-latest.ts`): until then the newest value of a series may be a staged row, and
 * `telemetry-queries.ts` reads both.
 */
export class TelemetryMerge {
  private readonly bounds: StatementSync;
  private readonly move: StatementSync;
  private readonly drop: StatementSync;
  private readonly dropAll: StatementSync;
  private readonly count: StatementSync;
  /** Rows in `telemetry_recent` (committed), kept without counting: ingest adds, merges reset. */
  private waiting: number;

  constructor(
    private readonly db: DatabaseSync,
    private readonly settings: MergeSettings,
    private readonly latest: StagedLatest,
  ) {
    this.bounds = db.prepare('SELECT min(rowid) AS lo, max(rowid) AS hi FROM telemetry_recent');
    this.move = db.prepare(
      `INSERT OR REPLACE INTO telemetry (device_id, key_id, ts, bool_v, long_v, dbl_v, str_v, json_v)
       SELECT device_id, key_id, ts, bool_v, long_v, dbl_v, str_v, json_v FROM telemetry_recent
       WHERE rowid <= ? ORDER BY device_id, key_id, ts, rowid`,
    );
    this.drop = db.prepare('DELETE FROM telemetry_recent WHERE rowid <= ?');
    // Without a WHERE clause SQLite drops the table's pages at once instead of row by row.
    this.dropAll = db.prepare('DELETE FROM telemetry_recent');
    this.count = db.prepare('SELECT count(*) AS n FROM telemetry_recent');
    this.waiting = (this.count.get() as { n: number }).n;
  }

  /** Rows waiting in `telemetry_recent`. */
  get pending(): number {
    return this.waiting;
  }

  /** Ingest committed `rows` more rows into `telemetry_recent`. */
  added(rows: number): void {
    this.waiting += rows;
  }

  /** Whether enough rows wait for a merge to be worth it now. */
  due(): boolean {
    return this.waiting >= this.settings.rows;
  }

  /**
   * Moves the oldest rows (at most `maxRowsPerMerge`) in one transaction; returns how many.
   * Rowids grow with each insert (a rowid table without AUTOINCREMENT takes max + 1, and restarts
   * only once the table is empty, i.e. once everything older has been merged), so `rowid <= upto`
   * is exactly the oldest rows.
   */
  mergeOnce(): number {
    if (this.waiting === 0) return 0;
    this.settings.beforeTransaction?.();
    const moved = inTransaction(this.db, 'merge telemetry', () => {
      const { lo, hi } = this.bounds.get() as { lo: number | null; hi: number | null };
      if (lo === null || hi === null) return 0;
      const upto = Math.min(hi, lo + this.settings.maxRowsPerMerge - 1);
      this.latest.write();
      this.move.run(upto);
      return Number((upto < hi ? this.drop.run(upto) : this.dropAll.run()).changes);
    });
    // Not before: a merge rolled back must write the same values on its next attempt.
    this.latest.clear();
    this.waiting = moved === 0 ? 0 : Math.max(0, this.waiting - moved);
    return moved;
  }

  /** Moves every row waiting; returns how many. */
  mergeAll(): number {
    let total = 0;
    for (let n = this.mergeOnce(); n > 0; n = this.mergeOnce()) total += n;
    return total;
  }
}
