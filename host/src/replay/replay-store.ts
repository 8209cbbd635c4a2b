import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { ReplayPoint } from '@tbi/plugin-api';

/**
 * Where a replay is: `running` (reading), `waiting` (its integration is not running; it goes on
 * when it is), or ended: `done`, `failed`, `cancelled`.
 */
export type ReplayState = 'running' | 'waiting' | 'done' | 'failed' | 'cancelled';

/** A replay as the host keeps it, and as the API and `tbi replay` show it. */
export interface ReplayRecord {
  id: number;
  integration: string;
  from: ReplayPoint;
  to?: ReplayPoint;
  state: ReplayState;
  /** Messages read from the source. */
  read: number;
  /** Of those, converted and stored. */
  stored: number;
  /** Of those, dead-lettered (the converter failed on them). */
  failed: number;
  /** Messages in the range, when the connector can tell. */
  total?: number;
  /** The connector's position after the last stored batch, for people. */
  position?: string;
  /** The connector's resume point after the last stored batch. */
  checkpoint?: string;
  /** Why it failed or waits. */
  detail?: string;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
}

interface Row {
  id: number;
  integration: string;
  from_point: string;
  to_point: string | null;
  state: ReplayState;
  read: number;
  stored: number;
  failed: number;
  total: number | null;
  position: string | null;
  checkpoint: string | null;
  detail: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS replays (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  integration TEXT    NOT NULL,
  from_point  TEXT    NOT NULL,
  to_point    TEXT,
  state       TEXT    NOT NULL,
  read        INTEGER NOT NULL DEFAULT 0,
  stored      INTEGER NOT NULL DEFAULT 0,
  failed      INTEGER NOT NULL DEFAULT 0,
  total       INTEGER,
  position    TEXT,
  checkpoint  TEXT,
  detail      TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  finished_at INTEGER
);
`;

function toRecord(row: Row): ReplayRecord {
  const record: ReplayRecord = {
    id: row.id,
    integration: row.integration,
    from: JSON.parse(row.from_point) as ReplayPoint,
    state: row.state,
    read: row.read,
    stored: row.stored,
    failed: row.failed,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.to_point !== null) record.to = JSON.parse(row.to_point) as ReplayPoint;
  if (row.total !== null) record.total = row.total;
  if (row.position !== null) record.position = row.position;
  if (row.checkpoint !== null) record.checkpoint = row.checkpoint;
  if (row.detail !== null) record.detail = row.detail;
  if (row.finished_at !== null) record.finishedAt = row.finished_at;
  return record;
}

/** What a stored batch adds to a replay. */
export interface ReplayProgress {
  read: number;
  stored: number;
  failed: number;
  checkpoint: string;
  position: string;
  total?: number;
}

/**
 * The host's replays in SQLite (`<dataDir>/replays.db`, WAL, `synchronous=FULL`): a checkpoint is
 * on disk before the next batch is read, so a host killed in the middle resumes after the last
 * stored batch (at least once: the batch in flight is read again and stored over itself).
 */
export class ReplayStore {
  readonly #db: DatabaseSync;
  readonly #progress: StatementSync;
  readonly #now: () => number;

  constructor(file: string, now: () => number = Date.now) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.#db = new DatabaseSync(file);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(SCHEMA);
    this.#now = now;
    this.#progress = this.#db.prepare(
      `UPDATE replays SET read = read + ?, stored = stored + ?, failed = failed + ?, checkpoint = ?, position = ?,
         total = coalesce(?, total), updated_at = ? WHERE id = ?`,
    );
  }

  create(integration: string, from: ReplayPoint, to: ReplayPoint | undefined): ReplayRecord {
    const now = this.#now();
    const { lastInsertRowid } = this.#db
      .prepare(`INSERT INTO replays (integration, from_point, to_point, state, created_at, updated_at) VALUES (?, ?, ?, 'running', ?, ?)`)
      .run(integration, JSON.stringify(from), to === undefined ? null : JSON.stringify(to), now, now);
    return this.get(Number(lastInsertRowid))!;
  }

  get(id: number): ReplayRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM replays WHERE id = ?').get(id) as Row | undefined;
    return row && toRecord(row);
  }

  /** Newest first. */
  list(limit = 50): ReplayRecord[] {
    return (this.#db.prepare('SELECT * FROM replays ORDER BY id DESC LIMIT ?').all(limit) as unknown as Row[]).map(toRecord);
  }

  /** Replays that have not ended (to resume at start-up). */
  unfinished(): ReplayRecord[] {
    return (this.#db.prepare(`SELECT * FROM replays WHERE state IN ('running', 'waiting') ORDER BY id`).all() as unknown as Row[]).map(toRecord);
  }

  /** Adds a stored batch and its checkpoint, durably. */
  progress(id: number, p: ReplayProgress): void {
    this.#progress.run(p.read, p.stored, p.failed, p.checkpoint, p.position, p.total ?? null, this.#now(), id);
  }

  setState(id: number, state: ReplayState, detail?: string): void {
    const now = this.#now();
    const ended = state === 'done' || state === 'failed' || state === 'cancelled';
    this.#db
      .prepare('UPDATE replays SET state = ?, detail = ?, updated_at = ?, finished_at = CASE WHEN ? THEN ? ELSE finished_at END WHERE id = ?')
      .run(state, detail ?? null, now, ended ? 1 : 0, now, id);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
