import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedPlatform } from '../src/index.js';
import { DATABASE_FILE } from '../src/open-database.js';
import { BATCH, batch } from './fixtures/crash-batch.js';

const CHILD = fileURLToPath(new URL('./fixtures/ingest-until-killed.mjs', import.meta.url));
describe('SIGKILL during a merge', () => {
  let dataDir: string | undefined;
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged record exactly once', { timeout: 120_000 }, async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'tbi-platform-kill-'));
    const proc = spawn(process.execPath, [CHILD, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    child = proc;
    let acked = -1;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
    for await (const line of createInterface({ input: proc.stdout! })) {
      if (line.startsWith('acked ')) acked = Number(line.slice(6));
      // The merge of 60,000 staged rows (about 300 ms here) was just requested: kill while the writer thread runs it.
      if (line === 'merging') {
        await new Promise((resolve) => setTimeout(resolve, 20));
        proc.kill('SIGKILL');
        break;
      }
    }
    expect(await exited).toBe('SIGKILL');
    expect(acked).toBeGreaterThanOrEqual(79);

    // Every acknowledged value is there once, whether in the staging or the clustered table.
    const db = new DatabaseSync(path.join(dataDir, DATABASE_FILE));
    const rows = db
      .prepare(
        `SELECT count(*) AS n, count(DISTINCT ts) AS distinctTs FROM
           (SELECT ts FROM telemetry_recent UNION ALL SELECT ts FROM telemetry) WHERE ts < ?`,
      )
      .get((acked + 1) * BATCH) as { n: number; distinctTs: number };
    // The latest values were written in the merge's transaction: after the crash they are those
    // of the merged rows, never of rows the rolled-back merge did not move.
    const latestMismatch = db
      .prepare(
        `SELECT count(*) AS n FROM telemetry_latest l WHERE l.ts <> (SELECT max(ts) FROM telemetry t WHERE t.device_id = l.device_id AND t.key_id = l.key_id)
           OR NOT EXISTS (SELECT 1 FROM telemetry t WHERE t.device_id = l.device_id AND t.key_id = l.key_id)`,
      )
      .get() as { n: number };
    const seriesMerged = db.prepare('SELECT count(*) AS n FROM (SELECT DISTINCT device_id, key_id FROM telemetry)').get() as { n: number };
    const latestRows = db.prepare('SELECT count(*) AS n FROM telemetry_latest').get() as { n: number };
    db.close();
    expect(rows).toEqual({ n: (acked + 1) * BATCH, distinctTs: (acked + 1) * BATCH });
    expect(latestMismatch.n).toBe(0);
    expect(seriesMerged.n).toBe(100);
    expect(latestRows.n).toBe(100);

    // A source delivering the acknowledged batches again (no ack reached it, say) stores nothing.
    const platform = await openEmbeddedPlatform({ dataDir });
    try {
      for (let b = 0; b <= acked; b++) expect(await platform.ingest(batch(b))).toEqual({ stored: 0, duplicates: BATCH });
      const points = platform.telemetry('d-7', 'v', { from: 0, to: (acked + 1) * BATCH - 1, order: 'asc', limit: 100_000 });
      expect(points.map((p) => p.ts)).toEqual(Array.from({ length: (acked + 1) * 10 }, (_, i) => i * 100 + 7));
    } finally {
      await platform.close();
    }
    // close() merged everything: the latest value of every series is its newest row, including
    // the rows that were still staged at the crash (recovered when the writer thread started).
    const after = new DatabaseSync(path.join(dataDir, DATABASE_FILE));
    const stale = after
      .prepare(
        'SELECT count(*) AS n FROM telemetry_latest l WHERE l.ts <> (SELECT max(ts) FROM telemetry t WHERE t.device_id = l.device_id AND t.key_id = l.key_id)',
      )
      .get() as { n: number };
    after.close();
    expect(stale.n).toBe(0);
  });
});
