// Part of the store benchmark (bench/run.mjs): a telemetry table far larger than the page cache
// the benchmark starts with. Seeds `values` telemetry values straight into the clustered table by
// SQL (1000 devices × 3 keys, one point a second, ending just before the benchmark's own
// timestamps), then measures ingest into it and two queries a dashboard makes.
import { statSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openEmbeddedPlatform } from '../dist/index.js';
import { DATABASE_FILE } from '../dist/open-database.js';

export const SERIES_KEYS = ['temperature', 'humidity', 'ok'];
const FIRST_BENCH_TS = 1_700_000_000_000;

/** Writes `values` points into a new platform database in `dataDir`; reports progress on `log`. */
export async function seedTelemetry(dataDir, values, devices, log) {
  await (await openEmbeddedPlatform({ dataDir })).close(); // creates the schema
  const db = new DatabaseSync(path.join(dataDir, DATABASE_FILE));
  db.exec('PRAGMA synchronous = OFF'); // seeding only: the measured cases run with synchronous=FULL
  const perSeries = Math.ceil(values / (devices * SERIES_KEYS.length));
  const start = FIRST_BENCH_TS - perSeries * 1000;
  db.exec('BEGIN');
  for (const key of SERIES_KEYS) db.prepare('INSERT INTO telemetry_keys (key) VALUES (?)').run(key);
  const addDevice = db.prepare(
    "INSERT INTO devices (name, entity_type, type, integration, created_time, last_seen) VALUES (?, 'DEVICE', 'sensor', 'bench', ?, ?)",
  );
  for (let d = 0; d < devices; d++) addDevice.run(`dev-${d}`, start, start);
  db.exec('COMMIT');
  // In primary-key order, so the clustered table is built by appending.
  const fill = db.prepare(
    `INSERT INTO telemetry (device_id, key_id, ts, dbl_v)
     WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :count)
     SELECT :device, :key, :start + i * 1000, (i % 1000) / 10.0 FROM n`,
  );
  const started = Date.now();
  for (let d = 1; d <= devices; d++) {
    db.exec('BEGIN');
    for (let k = 1; k <= SERIES_KEYS.length; k++) fill.run({ device: d, key: k, start, count: perSeries });
    db.exec('COMMIT');
    if (d % 100 === 0) log(`seeded ${(d * perSeries * SERIES_KEYS.length).toLocaleString('en')} values (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  return { stored: perSeries * devices * SERIES_KEYS.length, perSeries, fileMiB: statSync(path.join(dataDir, DATABASE_FILE)).size / 2 ** 20 };
}

/** Mean ms per call of the two queries, over `n` devices, on an open platform. */
export function timeQueries(platform, devices, n = 200) {
  const time = (fn) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn((i * 7919) % devices); // spread over the table, not one hot series
    return Number(process.hrtime.bigint() - t0) / 1e6 / n;
  };
  const newest = time((d) => platform.telemetry(`dev-${d}`, 'temperature', { from: 0, to: FIRST_BENCH_TS, limit: 100 }));
  const lastHour = time((d) =>
    platform.telemetry(`dev-${d}`, 'temperature', { from: FIRST_BENCH_TS - 3_600_000, to: FIRST_BENCH_TS, agg: 'avg', intervalMs: 60_000 }),
  );
  return { newest, lastHour };
}
