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
    applyConnectionSettings(db, READER_CACHE_MIB);
    // Checkpoints are left to the writer thread, so that the small writes made on this connection
    // (commands, attributes) never copy the log back on the event loop.
    db.exec('PRAGMA wal_autocheckpoint = 0');
    migrate(db, file);
  } catch (error) {
    db.close();
    throw error;
  }
  return { db, file };
}

/**
 * Page cache of the writer thread's connection, MiB (SQLite's default is 2): telemetry inserts
 * land all over the (device, key, ts) tree, and the merge reads and rewrites it.
 */
export const WRITER_CACHE_MIB = 64;

/**
 * Page cache of the main thread's connection, MiB: it only answers queries (REST, console) and
 * makes small writes (commands, attributes). A page cache is memory SQLite keeps once it has
 * filled it, so a large one here would add its size to the host's resident memory for good after
 * a few broad queries; the pages also stay in the OS's file cache, which reads them back cheaply.
 */
export const READER_CACHE_MIB = 16;

/**
 * The pragmas of `openDatabase`; also used by the benchmark baseline so both pay the same fsyncs.
 * @param cacheMiB page cache of this connection (`WRITER_CACHE_MIB` for the one that ingests)
 */
export function applyConnectionSettings(db: DatabaseSync, cacheMiB = WRITER_CACHE_MIB): void {
  const { journal_mode: mode } = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string };
  if (mode.toLowerCase() !== 'wal') throw new Error(`could not switch the database to WAL mode (got ${mode})`);
  db.exec('PRAGMA synchronous = FULL');
  db.exec(`PRAGMA cache_size = -${Math.round(cacheMiB * 1024)}`); // negative: KiB, not pages
  // The GROUP BY of aggregated queries sorts in memory.
  db.exec('PRAGMA temp_store = MEMORY');
}

/**
 * WAL pages after which the writer copies the log back into the database (a checkpoint, default
 * 1000 pages). A commit that crosses the threshold does the checkpoint, and a batch of many
 * devices writes thousands of pages (one per (device, key) series), so with the default nearly
 * every commit checkpointed. At 8192 pages (32 MiB) a page rewritten by several commits is copied
 * once per checkpoint: about 20% more throughput for batches of 1000 records of 1000 devices.
 */
export const WRITER_CHECKPOINT_PAGES = 8192;

/**
 * Settings of the connection that ingests (the writer thread): it alone checkpoints, and the WAL
 * file is truncated back to 64 MiB after a checkpoint if a burst made it larger.
 */
export function applyWriterSettings(db: DatabaseSync): void {
  db.exec(`PRAGMA wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
  db.exec(`PRAGMA journal_size_limit = ${64 * 1024 * 1024}`);
}
