import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { ConverterFailure, Metadata } from '@tbi/plugin-api';

/** A message to keep because its conversion failed. */
export interface DeadLetterInput {
  integration: string;
  payload: Uint8Array;
  /** The connector's metadata, as submitted (without the integration's own keys). */
  metadata: Metadata;
  sourceId?: string;
  receivedAt?: number;
  error: ConverterFailure;
}

/** A stored dead letter. */
export interface DeadLetter extends DeadLetterInput {
  id: number;
  /** When it was first recorded (epoch ms). */
  createdAt: number;
  /** When it last failed (epoch ms). */
  updatedAt: number;
  /** How many times conversion failed: the first time plus each replay or redelivery. */
  attempts: number;
}

interface Row {
  id: number;
  integration: string;
  payload: Uint8Array;
  metadata: string;
  source_id: string | null;
  received_at: number | null;
  error_kind: string;
  error_message: string;
  error_path: string | null;
  created_at: number;
  updated_at: number;
  attempts: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS dead_letters (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  integration   TEXT    NOT NULL,
  payload       BLOB    NOT NULL,
  metadata      TEXT    NOT NULL,
  source_id     TEXT,
  received_at   INTEGER,
  error_kind    TEXT    NOT NULL,
  error_message TEXT    NOT NULL,
  error_path    TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS dead_letters_by_integration ON dead_letters (integration, id);
-- A redelivered message (same source position) that fails again is one dead letter, not two.
CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_by_source ON dead_letters (integration, source_id)
  WHERE source_id IS NOT NULL;
`;

function toDeadLetter(row: Row): DeadLetter {
  const error: ConverterFailure = { kind: row.error_kind as ConverterFailure['kind'], message: row.error_message };
  if (row.error_path !== null) error.path = row.error_path;
  const letter: DeadLetter = {
    id: row.id,
    integration: row.integration,
    payload: row.payload,
    metadata: JSON.parse(row.metadata) as Metadata,
    error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    attempts: row.attempts,
  };
  if (row.source_id !== null) letter.sourceId = row.source_id;
  if (row.received_at !== null) letter.receivedAt = row.received_at;
  return letter;
}

/** Which dead letters an operation applies to; no field means all of them. */
export interface DeadLetterFilter {
  integration?: string;
  ids?: readonly number[];
}

function where(filter: DeadLetterFilter): { sql: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  if (filter.integration !== undefined) {
    parts.push('integration = ?');
    params.push(filter.integration);
  }
  if (filter.ids !== undefined) {
    parts.push(`id IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(filter.ids));
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/**
 * The host's dead-letter table in SQLite (WAL, `synchronous=FULL`): `add` returns only once the
 * rows are on disk, so a message can be acknowledged at its source right after.
 */
export class DeadLetterStore {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #maxPerIntegration: number;
  readonly #now: () => number;

  constructor(file: string, options: { now?: () => number; maxPerIntegration?: number } = {}) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.#db = new DatabaseSync(file);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(SCHEMA);
    this.#now = options.now ?? Date.now;
    this.#maxPerIntegration = options.maxPerIntegration ?? 100_000;
    this.#insert = this.#db.prepare(`
      INSERT INTO dead_letters (integration, payload, metadata, source_id, received_at,
                                error_kind, error_message, error_path, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (integration, source_id) WHERE source_id IS NOT NULL DO UPDATE SET
        payload = excluded.payload, metadata = excluded.metadata, error_kind = excluded.error_kind,
        error_message = excluded.error_message, error_path = excluded.error_path,
        updated_at = excluded.updated_at, attempts = attempts + 1
      RETURNING id`);
  }

  /**
   * Stores the letters in one transaction. Returns their ids and how many old letters were dropped
   * to keep each integration under `maxPerIntegration` (so a converter that fails on everything
   * cannot fill the disk).
   */
  add(letters: readonly DeadLetterInput[]): { ids: number[]; dropped: number } {
    if (letters.length === 0) return { ids: [], dropped: 0 };
    const now = this.#now();
    const ids: number[] = [];
    let dropped = 0;
    this.#transaction(() => {
      for (const l of letters) {
        const row = this.#insert.get(
          l.integration,
          l.payload,
          JSON.stringify(l.metadata),
          l.sourceId ?? null,
          l.receivedAt ?? null,
          l.error.kind,
          l.error.message,
          l.error.path ?? null,
          now,
          now,
        ) as { id: number };
        ids.push(row.id);
      }
      for (const integration of new Set(letters.map((l) => l.integration))) {
        const excess = this.count({ integration }) - this.#maxPerIntegration;
        if (excess > 0) {
          this.#db
            .prepare(`DELETE FROM dead_letters WHERE id IN
                        (SELECT id FROM dead_letters WHERE integration = ? ORDER BY id LIMIT ?)`)
            .run(integration, excess);
          dropped += excess;
        }
      }
    });
    return { ids, dropped };
  }

  count(filter: DeadLetterFilter = {}): number {
    const w = where(filter);
    const row = this.#db.prepare(`SELECT COUNT(*) AS n FROM dead_letters ${w.sql}`).get(...w.params) as { n: number };
    return row.n;
  }

  /** Oldest first, `limit`/`offset` paged. */
  list(filter: DeadLetterFilter & { limit?: number; offset?: number } = {}): DeadLetter[] {
    const w = where(filter);
    const rows = this.#db
      .prepare(`SELECT * FROM dead_letters ${w.sql} ORDER BY id LIMIT ? OFFSET ?`)
      .all(...w.params, filter.limit ?? 50, filter.offset ?? 0) as unknown as Row[];
    return rows.map(toDeadLetter);
  }

  /** Letters with an id above `afterId`, oldest first: walks the table in pages for replay. */
  page(filter: DeadLetterFilter, afterId: number, limit: number): DeadLetter[] {
    const w = where(filter);
    const sql = `SELECT * FROM dead_letters ${w.sql ? `${w.sql} AND` : 'WHERE'} id > ? ORDER BY id LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...w.params, afterId, limit) as unknown as Row[];
    return rows.map(toDeadLetter);
  }

  get(id: number): DeadLetter | undefined {
    const row = this.#db.prepare('SELECT * FROM dead_letters WHERE id = ?').get(id) as Row | undefined;
    return row && toDeadLetter(row);
  }

  /** Records another failed attempt (a replay that failed again). */
  markFailed(id: number, error: ConverterFailure): void {
    this.#db
      .prepare(`UPDATE dead_letters SET attempts = attempts + 1, error_kind = ?, error_message = ?,
                  error_path = ?, updated_at = ? WHERE id = ?`)
      .run(error.kind, error.message, error.path ?? null, this.#now(), id);
  }

  /** Deletes the matching letters; returns how many. */
  remove(filter: DeadLetterFilter): number {
    const w = where(filter);
    return Number(this.#db.prepare(`DELETE FROM dead_letters ${w.sql}`).run(...w.params).changes);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #transaction(work: () => void): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }
}
