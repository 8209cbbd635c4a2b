import { SCHEMA_VERSION } from '../src/schema.js';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedPlatform } from '../src/index.js';
import { DATABASE_FILE } from '../src/open-database.js';
import { countRows, countTelemetryRows, item, MANUAL_MERGE, mergeNow, record, tempPlatform } from './helpers.js';

const DAY = 86_400_000;
type Env = Awaited<ReturnType<typeof tempPlatform>>;
let env: Env;
const dirs: string[] = [];
afterEach(async () => {
  await env?.cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const series = (from: number, n: number, key = 'v', value = (i: number) => i) =>
  Array.from({ length: n }, (_, i) => ({ ts: from + i, values: { [key]: value(i) } }));

describe('telemetry staging and merge', () => {
  it('answers the same queries before and after a merge, and moves every row into the clustered table', async () => {
    env = await tempPlatform({}, MANUAL_MERGE);
    const { platform } = env;
    await platform.ingest([item([record('m-1', { telemetry: series(1000, 50) }), record('m-2', { telemetry: series(1000, 20, 'w') })])]);
    await platform.ingest([item([record('m-1', { telemetry: series(1050, 50) })])]);
    const other = env.secondConnection();
    expect(countRows(other, 'telemetry_recent')).toBe(120);
    expect(countRows(other, 'telemetry')).toBe(0);
    const queries = () => ({
      raw: platform.telemetry('m-1', 'v', { from: 1000, to: 2000, order: 'asc', limit: 1000 }),
      newest: platform.telemetry('m-1', 'v', { from: 1000, to: 2000, limit: 3 }),
      buckets: platform.telemetry('m-1', 'v', { from: 1000, to: 1100, agg: 'avg', intervalMs: 50, order: 'asc' }),
      other: platform.telemetry('m-2', 'w', { from: 0, to: 5000, agg: 'count' }),
      latest: platform.latestTelemetry('m-1'),
    });
    const before = queries();
    expect(before.raw.map((p) => p.value)).toEqual(Array.from({ length: 100 }, (_, i) => i % 50));
    expect(before.newest).toEqual([
      { ts: 1099, value: 49 },
      { ts: 1098, value: 48 },
      { ts: 1097, value: 47 },
    ]);
    expect(before.buckets).toEqual([
      { ts: 1000, value: 24.5, count: 50 },
      { ts: 1050, value: 24.5, count: 50 },
    ]);
    expect(before.other).toEqual([{ ts: 0, value: 20, count: 20 }]);
    expect(before.latest).toEqual({ v: { ts: 1099, value: 49 } });

    expect(await mergeNow(platform)).toBe(120);
    expect(countRows(other, 'telemetry_recent')).toBe(0);
    expect(countRows(other, 'telemetry')).toBe(120);
    expect(queries()).toEqual(before);

    // Rows stored after the merge are read together with the merged ones.
    await platform.ingest([item([record('m-1', { telemetry: series(1100, 5, 'v', (i) => 100 + i) })])]);
    expect(countRows(other, 'telemetry_recent')).toBe(5);
    expect(platform.telemetry('m-1', 'v', { from: 1095, to: 2000, order: 'asc' }).map((p) => p.value)).toEqual([45, 46, 47, 48, 49, 100, 101, 102, 103, 104]);
    other.close();
  });

  it('replaces a value stored again at the same ts, whether the older one is merged or still staged', async () => {
    env = await tempPlatform({}, MANUAL_MERGE);
    const { platform } = env;
    await platform.ingest([
      item([
        record('r', {
          telemetry: [
            { ts: 10, values: { v: 1 } },
            { ts: 20, values: { v: 2 } },
          ],
        }),
      ]),
    ]);
    await mergeNow(platform);
    // ts 10 again (the old value is merged), ts 30 twice while staged.
    await platform.ingest([
      item([
        record('r', {
          telemetry: [
            { ts: 10, values: { v: 'ten' } },
            { ts: 30, values: { v: 3 } },
          ],
        }),
      ]),
    ]);
    await platform.ingest([item([record('r', { telemetry: [{ ts: 30, values: { v: 'thirty' } }] })])]);
    const expected = [
      { ts: 10, value: 'ten' },
      { ts: 20, value: 2 },
      { ts: 30, value: 'thirty' },
    ];
    expect(platform.telemetry('r', 'v', { from: 0, to: 100, order: 'asc' })).toEqual(expected);
    expect(platform.telemetry('r', 'v', { from: 0, to: 100, agg: 'count' })).toEqual([{ ts: 0, value: 3, count: 3 }]);
    // min/max/avg see only the surviving numeric value of each ts: 2.
    expect(platform.telemetry('r', 'v', { from: 0, to: 100, agg: 'max' })).toEqual([{ ts: 0, value: 2, count: 3 }]);

    await mergeNow(platform);
    const other = env.secondConnection();
    expect(countRows(other, 'telemetry')).toBe(3);
    expect(countRows(other, 'telemetry_recent')).toBe(0);
    other.close();
    expect(platform.telemetry('r', 'v', { from: 0, to: 100, order: 'asc' })).toEqual(expected);
    // The same call storing a ts twice: the later sample wins, as it did before staging.
    await platform.ingest([
      item([
        record('r', {
          telemetry: [
            { ts: 40, values: { v: 'a' } },
            { ts: 40, values: { v: 'b' } },
          ],
        }),
      ]),
    ]);
    expect(platform.telemetry('r', 'v', { from: 40, to: 41 })).toEqual([{ ts: 40, value: 'b' }]);
    await mergeNow(platform);
    expect(platform.telemetry('r', 'v', { from: 40, to: 41 })).toEqual([{ ts: 40, value: 'b' }]);
  });

  it('retention deletes expired telemetry from both tables', async () => {
    env = await tempPlatform({ telemetryTtlDays: 1 }, MANUAL_MERGE);
    const { platform, clock } = env;
    const old = clock.now() - 3 * DAY;
    await platform.ingest([item([record('t', { telemetry: [...series(old, 10), ...series(clock.now(), 2)] })])]);
    await mergeNow(platform);
    await platform.ingest([item([record('t', { telemetry: [...series(old + 100, 7), ...series(clock.now() + 100, 3)] })])]);
    const other = env.secondConnection();
    expect(countRows(other, 'telemetry')).toBe(12);
    expect(countRows(other, 'telemetry_recent')).toBe(10);
    expect((await platform.runRetention()).telemetry).toBe(17);
    expect(countTelemetryRows(other)).toBe(5);
    other.close();
    expect(platform.telemetry('t', 'v', { from: 0, to: clock.now() + DAY, order: 'asc' }).map((p) => p.ts)).toEqual([
      clock.now(),
      clock.now() + 1,
      clock.now() + 100,
      clock.now() + 101,
      clock.now() + 102,
    ]);
  });

  it('rolls a failed merge back entirely: every row stays staged and readable, and the next merge moves it', async () => {
    env = await tempPlatform({}, MANUAL_MERGE);
    const { platform } = env;
    await platform.ingest([item([record('f', { telemetry: series(0, 100) })])]);
    const other = env.secondConnection();
    // A real failure in the middle of the merge (the 51st row moved, in key order).
    other.exec(`CREATE TRIGGER boom BEFORE INSERT ON telemetry WHEN NEW.long_v = 50 BEGIN SELECT RAISE(ABORT, 'merge rejected by test'); END`);
    await expect(mergeNow(platform)).rejects.toMatchObject({ code: 'DELIVERY_FAILED' });
    expect(countRows(other, 'telemetry')).toBe(0);
    expect(countRows(other, 'telemetry_recent')).toBe(100);
    expect(platform.telemetry('f', 'v', { from: 0, to: 1000, agg: 'count' })).toEqual([{ ts: 0, value: 100, count: 100 }]);
    // Ingest goes on meanwhile.
    expect(await platform.ingest([item([record('f', { telemetry: series(100, 10) })])])).toEqual({ stored: 1, duplicates: 0 });
    other.exec('DROP TRIGGER boom');
    expect(await mergeNow(platform)).toBe(110);
    expect(countRows(other, 'telemetry')).toBe(110);
    expect(countRows(other, 'telemetry_recent')).toBe(0);
    other.close();
    expect(platform.telemetry('f', 'v', { from: 0, to: 1000, order: 'asc', limit: 1000 }).map((p) => p.value)).toEqual([
      ...Array.from({ length: 100 }, (_, i) => i),
      ...Array.from({ length: 10 }, (_, i) => i),
    ]);
  });

  it('loses nothing staged when the process stops between merges', async () => {
    env = await tempPlatform({}, MANUAL_MERGE);
    await env.platform.ingest([item([record('c', { telemetry: series(0, 30) })], 'c/1')]);
    // The files as a crash (no close, no merge) leaves them: database and WAL, without the shared
    // memory index, which SQLite rebuilds from the WAL.
    const crashed = mkdtempSync(path.join(os.tmpdir(), 'tbi-platform-crash-'));
    dirs.push(crashed);
    for (const suffix of ['', '-wal']) {
      const from = path.join(env.dataDir, DATABASE_FILE + suffix);
      if (existsSync(from)) copyFileSync(from, path.join(crashed, DATABASE_FILE + suffix));
    }
    const staged = new DatabaseSync(path.join(crashed, DATABASE_FILE));
    expect(countRows(staged, 'telemetry_recent')).toBe(30);
    staged.close();
    const restarted = await openEmbeddedPlatform({ dataDir: crashed });
    try {
      expect(readBack(restarted).map((p) => p.value)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(await restarted.ingest([item([record('c', { telemetry: series(0, 30) })], 'c/1')])).toEqual({ stored: 0, duplicates: 1 });
    } finally {
      await restarted.close();
    }
    // close() merged what was staged.
    const closed = new DatabaseSync(path.join(crashed, DATABASE_FILE));
    expect(countRows(closed, 'telemetry')).toBe(30);
    expect(countRows(closed, 'telemetry_recent')).toBe(0);
    closed.close();

    function readBack(p: typeof restarted) {
      return p.telemetry('c', 'v', { from: 0, to: 100, order: 'asc' });
    }
  });

  it('merges on its own once enough rows are staged, and on its interval', async () => {
    env = await tempPlatform({}, { intervalMs: 3_600_000, rows: 50 });
    await env.platform.ingest([item([record('a', { telemetry: series(0, 60) })])]);
    const other = env.secondConnection();
    const deadline = Date.now() + 20_000;
    while (countRows(other, 'telemetry_recent') > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(countRows(other, 'telemetry_recent')).toBe(0);
    expect(countRows(other, 'telemetry')).toBe(60);
    other.close();
    await env.cleanup();

    env = await tempPlatform({}, { intervalMs: 50, rows: Number.MAX_SAFE_INTEGER });
    await env.platform.ingest([item([record('b', { telemetry: series(0, 5) })])]);
    const second = env.secondConnection();
    const until = Date.now() + 20_000;
    while (countRows(second, 'telemetry') < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(countRows(second, 'telemetry')).toBe(5);
    expect(countRows(second, 'telemetry_recent')).toBe(0);
    second.close();
  });

  it('opens a schema version 1 database: adds the staging table and keeps its telemetry', async () => {
    env = await tempPlatform({}, MANUAL_MERGE);
    await env.platform.ingest([item([record('old', { telemetry: series(0, 3) })])]);
    await env.platform.close();
    // Back to the v1 layout: no staging table, user_version 1.
    const db = env.secondConnection();
    expect(countRows(db, 'telemetry')).toBe(3);
    db.exec('DROP TABLE telemetry_recent; DROP TABLE record_log; DROP TABLE record_log_cursors; PRAGMA user_version = 1');
    db.close();
    const reopened = await env.reopen();
    try {
      expect(reopened.telemetry('old', 'v', { from: 0, to: 10, order: 'asc' }).map((p) => p.value)).toEqual([0, 1, 2]);
      await reopened.ingest([item([record('old', { telemetry: [{ ts: 1, values: { v: 'new' } }] })])]);
      expect(reopened.telemetry('old', 'v', { from: 0, to: 10, order: 'asc' }).map((p) => p.value)).toEqual([0, 'new', 2]);
    } finally {
      await reopened.close();
    }
    const after = env.secondConnection();
    expect((after.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(SCHEMA_VERSION);
    expect(countRows(after, 'telemetry')).toBe(3);
    after.close();
  });
});
