import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrate } from './schema.js';

/** File name of the database inside the data directory. */
export const DATABASE_FILE = 'platform.db';

/**
 * Opens (creating if needed) the platform database with the durability settings every writer
 * of it must share:
 *
 * - `journal_mode=WAL`: readers (REST queries) never block the writer, and a commit appends to
 *   the log instead of rewriting pages.
 * - `synchronous=FULL`: in WAL mode the log is fsynced at every commit, so a committed batch
 *   survives a power loss or OS crash. With NORMAL it would survive only a process crash (the
 *   log is synced at checkpoints), and a connector would already have acknowledged those
 *   messages to its broker: data lost. The cost is one fsync per transaction, which batching
 *   (and the group commit of `ingest`) spreads over many records.
 */
export function openDatabase(dataDir: string, busyTimeoutMs: number): { db: DatabaseSync; file: string } {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, DATABASE_FILE);
  const db = new DatabaseSync(file, { timeout: busyTimeoutMs });
  try {
    applyConnectionSettings(db);
    migrate(db, file);
  } catch (error) {
    db.close();
    throw error;
  }
  return { db, file };
}

/** The pragmas of `openDatabase`; also used by the benchmark baseline so both pay the same fsyncs. */
export function applyConnectionSettings(db: DatabaseSync): void {
  const { journal_mode: mode } = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string };
  if (mode.toLowerCase() !== 'wal') throw new Error(`could not switch the database to WAL mode (got ${mode})`);
  db.exec('PRAGMA synchronous = FULL');
  // 64 MiB of page cache (default 2 MiB): telemetry inserts land all over the (device, key, ts) tree.
  db.exec('PRAGMA cache_size = -65536');
  // The GROUP BY of aggregated queries sorts in memory.
  db.exec('PRAGMA temp_store = MEMORY');
}
