import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { DeliveryError, sleep, type Clock, type StoredRecordEntry, type StoredRecordLog } from '@tbi/plugin-api';
import { PlatformError } from './errors.js';
import type { WriteGate } from './write-gate.js';
import { inTransaction } from './transaction.js';

/** Options of the log of stored records (`EmbeddedPlatformOptions.recordLog`). */
export interface RecordLogOptions {
  /** The readers that keep entries: one per export. Cursors of other readers are dropped at open. */
  readers: string[];
  /** Entries older than this many days are dropped even if a reader has not committed past them (default 7). */
  retentionDays?: number;
}

interface Row {
  seq: number;
  stored_at: number;
  integration: string;
  created: number;
  record: string;
}

/**
 * The embedded platform's log of stored records (`PlatformClient.log`), for exports. Ingest writes
 * an entry per stored device record on the writer thread, in the transaction that stores it
 * (`IngestWriter`), so an entry exists exactly when its data does. Reads and cursor commits run on
 * the main thread's connection; a commit also trims what every reader has passed, and what is older
 * than the retention.
 */
export class RecordLog implements StoredRecordLog {
  readonly #db: DatabaseSync;
  readonly #gate: WriteGate;
  readonly #clock: Clock;
  readonly #readers: ReadonlySet<string>;
  readonly #retentionMs: number;
  readonly #s: Record<'read' | 'head' | 'cursor' | 'setCursor' | 'trimRead' | 'trimOld', StatementSync>;
  readonly #waiters = new Set<() => void>();

  constructor(db: DatabaseSync, gate: WriteGate, clock: Clock, options: RecordLogOptions) {
    this.#db = db;
    this.#gate = gate;
    this.#clock = clock;
    this.#readers = new Set(options.readers);
    this.#retentionMs = (options.retentionDays ?? 7) * 86_400_000;
    this.#s = {
      read: db.prepare('SELECT seq, stored_at, integration, created, record FROM record_log WHERE seq > ? ORDER BY seq LIMIT ?'),
      // The last seq ever given (kept by AUTOINCREMENT even when every entry was trimmed).
      head: db.prepare(`SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'record_log'), 0) AS seq`),
      cursor: db.prepare('SELECT seq FROM record_log_cursors WHERE reader = ?'),
      setCursor: db.prepare('INSERT INTO record_log_cursors (reader, seq) VALUES (?, ?) ON CONFLICT (reader) DO UPDATE SET seq = excluded.seq'),
      // A reader without a cursor has read nothing: then nothing is trimmed for readers.
      trimRead: db.prepare(`DELETE FROM record_log WHERE seq <= (SELECT CASE WHEN count(*) = ? THEN min(seq) ELSE 0 END FROM record_log_cursors)`),
      trimOld: db.prepare(
        'DELETE FROM record_log WHERE seq < coalesce((SELECT seq FROM record_log WHERE stored_at >= ? ORDER BY seq LIMIT 1), (SELECT max(seq) + 1 FROM record_log))',
      ),
    };
    this.#gate.run(() =>
      inTransaction(db, 'open the record log', () => {
        const placeholders = [...this.#readers].map(() => '?').join(',');
        db.prepare(`DELETE FROM record_log_cursors WHERE reader NOT IN (${placeholders || "''"})`).run(...this.#readers);
        this.#trim();
      }),
    );
  }

  read(after: number, limit: number): StoredRecordEntry[] {
    return (this.#s.read.all(after, limit) as unknown as Row[]).map((row) => ({
      seq: row.seq,
      storedAt: row.stored_at,
      integration: row.integration,
      created: row.created === 1,
      record: JSON.parse(row.record) as StoredRecordEntry['record'],
    }));
  }

  head(): number {
    return (this.#s.head.get() as { seq: number }).seq;
  }

  cursor(reader: string): number {
    return (this.#s.cursor.get(reader) as { seq: number } | undefined)?.seq ?? 0;
  }

  /**
   * Commits a cursor (and trims) on the main thread's connection. A write can find the lock taken
   * for longer than the busy timeout (a long merge on the writer thread): it is retried here,
   * asynchronously, for up to 30 s before the export sees a retryable `DeliveryError`.
   */
  async commit(reader: string, seq: number): Promise<void> {
    if (!this.#readers.has(reader)) {
      throw new PlatformError('INVALID_ARGUMENT', `"${reader}" is not a reader of the record log (readers: ${[...this.#readers].join(', ')})`, {
        context: { reader },
      });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        this.#gate.run(() =>
          inTransaction(this.#db, 'commit a record log cursor', () => {
            this.#s.setCursor.run(reader, seq);
            this.#trim();
          }),
        );
        return;
      } catch (error) {
        if (attempt >= 60)
          throw new DeliveryError(`could not commit the record log cursor of ${reader}`, { cause: error, retryable: true, context: { reader, seq } });
        await sleep(Math.min(500, 10 * attempt));
      }
    }
  }

  waitFor(after: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.head() > after) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        clearTimeout(timer);
        resolve();
      };
      // A safety net: entries are announced by `stored()`, this catches anything else.
      const timer = setTimeout(done, 1000);
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Ingest committed new data: wakes the readers waiting for entries. */
  stored(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  #trim(): void {
    this.#s.trimRead.run(this.#readers.size);
    this.#s.trimOld.run(this.#clock.now() - this.#retentionMs);
  }
}
