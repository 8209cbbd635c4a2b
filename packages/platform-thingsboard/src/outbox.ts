import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { DeliveryError, type DeviceRecord, type IngestItem } from '@tbi/plugin-api';

/** What one outbox row carries to ThingsBoard. */
export type OutboxKind = 'telemetry' | 'attributes' | 'rpc';

/** One row: the data of one record (or one RPC reply) for one device. */
export interface OutboxRow {
  seq: number;
  device: string;
  kind: OutboxKind;
  /** JSON: telemetry samples (array), attributes (object), or an RPC reply `{id, data}`. */
  body: string;
  /** Telemetry data points in `body` (for the data-point rate limit). */
  points: number;
  createdAt: number;
}

/** A device as the outbox knows it: its profile and the integration that last carried it. */
export interface KnownDevice {
  name: string;
  type: string;
  integration: string | null;
  lastSeen: number;
  connected: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  device TEXT NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  points INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refused (
  seq INTEGER PRIMARY KEY,
  device TEXT NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  refused_at INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS source_ids (
  integration TEXT NOT NULL,
  source_id TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (integration, source_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS source_ids_seen ON source_ids (seen_at);
CREATE TABLE IF NOT EXISTS devices (
  name TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  integration TEXT,
  last_seen INTEGER NOT NULL,
  connected INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`;

/** File of the outbox inside the platform's data directory. */
export const OUTBOX_FILE = 'thingsboard-outbox.db';

/**
 * The durable outbox: records committed here count as stored (their sources are acknowledged),
 * and leave only when ThingsBoard has acknowledged them. SQLite in WAL mode with
 * `synchronous = FULL`, like the dead letters: a COMMIT survives SIGKILL and power loss.
 */
export class Outbox {
  readonly file: string;
  readonly #db: DatabaseSync;
  readonly #insertRow: StatementSync;
  readonly #insertSource: StatementSync;
  readonly #upsertDevice: StatementSync;
  readonly #deleteRows: StatementSync;
  readonly #next: StatementSync;
  readonly #setConnected: StatementSync;
  readonly #count: StatementSync;
  readonly #oldest: StatementSync;
  #rows: number;
  /** Profile and integration of each device as stored, so an unchanged device costs no write per record. */
  readonly #known = new Map<string, string>();
  /** Last-seen times not yet written (written with the next idle check, and on close). */
  readonly #seen = new Map<string, number>();

  /**
   * @param maxRowBytes largest telemetry row: a record's samples are split into rows below it, and
   *   a single larger sample is refused (not retryable), as it would never fit one PUBLISH.
   */
  constructor(
    dataDir: string,
    readonly maxRowBytes = 50_000,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, OUTBOX_FILE);
    this.#db = new DatabaseSync(this.file);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(SCHEMA);
    this.#insertRow = this.#db.prepare('INSERT INTO outbox (device, kind, body, points, created_at) VALUES (?, ?, ?, ?, ?)');
    this.#insertSource = this.#db.prepare('INSERT OR IGNORE INTO source_ids (integration, source_id, seen_at) VALUES (?, ?, ?)');
    this.#upsertDevice = this.#db.prepare(`INSERT INTO devices (name, type, integration, last_seen) VALUES (?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET type = excluded.type, integration = excluded.integration, last_seen = excluded.last_seen`);
    // One statement per acknowledged message, whatever its number of rows.
    this.#deleteRows = this.#db.prepare('DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))');
    this.#next = this.#db.prepare('SELECT seq, device, kind, body, points, created_at AS createdAt FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
    this.#setConnected = this.#db.prepare('UPDATE devices SET connected = ? WHERE name = ? AND connected <> ?');
    this.#count = this.#db.prepare('SELECT COUNT(*) AS n FROM outbox');
    // Rows are appended in time order: the first by seq (the rowid) is the oldest, found in O(log n).
    this.#oldest = this.#db.prepare('SELECT created_at AS oldest FROM outbox ORDER BY seq LIMIT 1');
    this.#rows = (this.#count.get() as { n: number }).n;
  }

  /** Rows waiting. */
  get size(): number {
    return this.#rows;
  }

  /** Creation time of the oldest waiting row, if any. */
  oldest(): number | undefined {
    const row = this.#oldest.get() as { oldest: number } | undefined;
    return row?.oldest;
  }

  /**
   * Appends the items' records in one transaction. An item whose `(integration, sourceId)` was
   * appended before is skipped (a redelivery), in the same transaction, so a crash cannot
   * separate "seen" from "stored". Returns the new rows' sequence numbers.
   */
  append(
    items: readonly IngestItem[],
    now: number,
    extra: ReadonlyArray<{ device: string; kind: OutboxKind; body: string }> = [],
  ): { stored: number; duplicates: number; seqs: number[] } {
    let stored = 0;
    let duplicates = 0;
    const seqs: number[] = [];
    const insert = (device: string, kind: OutboxKind, body: string, points = 0) => {
      seqs.push(Number(this.#insertRow.run(device, kind, body, points, now).lastInsertRowid));
    };
    const insertTelemetry = (device: string, samples: DeviceRecord['telemetry']) => {
      for (const sample of samples) checkValues(device, sample.values);
      const body = JSON.stringify(samples);
      if (Buffer.byteLength(body) <= this.maxRowBytes) {
        insert(
          device,
          'telemetry',
          body,
          samples.reduce((n, s) => n + Object.keys(s.values).length, 0),
        );
      } else if (samples.length > 1) {
        for (const sample of samples) insertTelemetry(device, [sample]);
      } else {
        throw new DeliveryError(
          `a telemetry sample of ${device} is ${Buffer.byteLength(body)} bytes; ThingsBoard takes at most ${this.maxRowBytes} in one message`,
          { retryable: false },
        );
      }
    };
    const learned: Array<[string, string]> = [];
    const seen: string[] = [];
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const item of items) {
        if (item.sourceId !== undefined && this.#insertSource.run(item.integration, item.sourceId, now).changes === 0) {
          duplicates += 1;
          continue;
        }
        stored += 1;
        for (const r of item.records) {
          const key = `${r.deviceType}\u0000${item.integration}`;
          if (this.#known.get(r.deviceName) !== key) {
            this.#upsertDevice.run(r.deviceName, r.deviceType, item.integration, now);
            learned.push([r.deviceName, key]);
          } else {
            seen.push(r.deviceName);
          }
          if (r.telemetry.length > 0) insertTelemetry(r.deviceName, r.telemetry);
          if (Object.keys(r.attributes).length > 0) {
            checkValues(r.deviceName, r.attributes);
            insert(r.deviceName, 'attributes', JSON.stringify(r.attributes));
          }
        }
      }
      for (const e of extra) insert(e.device, e.kind, e.body);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    for (const [name, key] of learned) this.#known.set(name, key);
    for (const name of seen) this.#seen.set(name, now);
    this.#rows += seqs.length;
    return { stored, duplicates, seqs };
  }

  /** Up to `limit` rows after `afterSeq`, in order. */
  next(afterSeq: number, limit: number): OutboxRow[] {
    return this.#next.all(afterSeq, limit) as unknown as OutboxRow[];
  }

  /**
   * Moves rows ThingsBoard refused as malformed into the `refused` table (kept for inspection),
   * so one bad row cannot stall the outbox behind it for ever.
   */
  quarantine(seqs: readonly number[], reason: string, now: number): void {
    if (seqs.length === 0) return;
    const list = JSON.stringify(seqs);
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#db
        .prepare(`INSERT OR IGNORE INTO refused (seq, device, kind, body, created_at, refused_at, reason)
        SELECT seq, device, kind, body, created_at, ?, ? FROM outbox WHERE seq IN (SELECT value FROM json_each(?))`)
        .run(now, reason, list);
      this.#rows -= Number(this.#deleteRows.run(list).changes);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Rows ThingsBoard refused, newest first. */
  refused(limit = 100): Array<{ seq: number; device: string; kind: string; body: string; reason: string }> {
    return this.#db.prepare('SELECT seq, device, kind, body, reason FROM refused ORDER BY seq DESC LIMIT ?').all(limit) as never;
  }

  /** Removes rows ThingsBoard acknowledged. */
  remove(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    this.#rows -= Number(this.#deleteRows.run(JSON.stringify(seqs)).changes);
  }

  device(name: string): KnownDevice | undefined {
    const row = this.#db.prepare('SELECT name, type, integration, last_seen AS lastSeen, connected FROM devices WHERE name = ?').get(name) as
      | (Omit<KnownDevice, 'connected'> & { connected: number })
      | undefined;
    return row && { ...row, connected: row.connected === 1 };
  }

  /** Devices connected at ThingsBoard when the host last ran (to re-connect them). */
  connectedDevices(): KnownDevice[] {
    return (
      this.#db.prepare('SELECT name, type, integration, last_seen AS lastSeen FROM devices WHERE connected = 1').all() as unknown as Omit<
        KnownDevice,
        'connected'
      >[]
    ).map((d) => ({ ...d, connected: true }));
  }

  /** Writes the last-seen times kept in memory. */
  flushSeen(): void {
    if (this.#seen.size === 0) return;
    const update = this.#db.prepare('UPDATE devices SET last_seen = MAX(last_seen, ?) WHERE name = ?');
    this.#db.exec('BEGIN');
    try {
      for (const [name, at] of this.#seen) update.run(at, name);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    this.#seen.clear();
  }

  /** Connected devices whose last data is older than `before`. */
  idleDevices(before: number): string[] {
    this.flushSeen();
    return (this.#db.prepare('SELECT name FROM devices WHERE connected = 1 AND last_seen < ?').all(before) as Array<{ name: string }>).map((r) => r.name);
  }

  setConnected(name: string, connected: boolean): void {
    const flag = connected ? 1 : 0;
    this.#setConnected.run(flag, name, flag);
  }

  /** Forgets source ids older than `before` (redeliveries come within days, not months). */
  pruneSourceIds(before: number): number {
    return Number(this.#db.prepare('DELETE FROM source_ids WHERE seen_at < ?').run(before).changes);
  }

  close(): void {
    try {
      this.flushSeen();
    } finally {
      this.#db.close();
    }
  }
}

/**
 * Integers beyond a Java long make ThingsBoard's `JsonConverter` refuse the whole message ("Big
 * integer values are not supported!"): refused here, so the record is dead-lettered instead.
 */
function checkValues(device: string, values: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) >= 2 ** 63) {
      throw new DeliveryError(`${device}.${key} = ${value}: ThingsBoard refuses integers beyond 64 bits`, { retryable: false });
    }
  }
}
