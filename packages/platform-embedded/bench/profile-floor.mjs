#!/usr/bin/env node
// The floor under the store's ingest cost: the bare SQL statements the schema needs per record,
// without any of the platform's code, timed one part at a time on one connection (CPU time of
// this thread, synchronous=FULL, batches of 1000 records × 3 values as in bench/run.mjs).
//   node bench/profile-floor.mjs        (prints µs per record for each part and the sum)
// Parts: the staged rows (3 per record, into a rowid table) with the commit; the dedup row
// (WITHOUT ROWID primary key on (integration, source_id) plus the stored_at index); the merge
// (moving the staged rows into the table clustered on (device, key, ts), then emptying the stage);
// the latest values (one upsert per series per merge, as `staged-latest.ts` writes them).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const BATCHES = Number(process.env.FLOOR_BATCHES ?? 100);
const BATCH = 1000;
const DEVICES = 1000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'tbi-floor-'));
const db = new DatabaseSync(path.join(dir, 'floor.db'));
db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
  CREATE TABLE recent (device_id INTEGER NOT NULL, key_id INTEGER NOT NULL, ts INTEGER NOT NULL, bool_v INTEGER, long_v INTEGER, dbl_v REAL, str_v TEXT, json_v TEXT);
  CREATE TABLE telemetry (device_id INTEGER NOT NULL, key_id INTEGER NOT NULL, ts INTEGER NOT NULL, bool_v INTEGER, long_v INTEGER, dbl_v REAL, str_v TEXT, json_v TEXT,
    PRIMARY KEY (device_id, key_id, ts)) WITHOUT ROWID;
  CREATE TABLE latest (device_id INTEGER NOT NULL, key_id INTEGER NOT NULL, ts INTEGER NOT NULL, bool_v INTEGER, long_v INTEGER, dbl_v REAL, str_v TEXT, json_v TEXT,
    PRIMARY KEY (device_id, key_id)) WITHOUT ROWID;
  CREATE TABLE processed (integration TEXT NOT NULL, source_id TEXT NOT NULL, stored_at INTEGER NOT NULL, PRIMARY KEY (integration, source_id)) WITHOUT ROWID;
  CREATE INDEX processed_stored_at ON processed (stored_at);`);
const stage = db.prepare('INSERT INTO recent VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
const dedup = db.prepare('INSERT INTO processed VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
const latest = db.prepare(
  `INSERT INTO latest VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, key_id) DO UPDATE SET ts = excluded.ts,
     bool_v = excluded.bool_v, long_v = excluded.long_v, dbl_v = excluded.dbl_v, str_v = excluded.str_v, json_v = excluded.json_v
   WHERE excluded.ts >= latest.ts`,
);
const move = db.prepare('INSERT OR REPLACE INTO telemetry SELECT * FROM recent ORDER BY device_id, key_id, ts, rowid');
const empty = db.prepare('DELETE FROM recent');

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const spent = { staged: 0, dedup: 0, latest: 0, merge: 0 };
let seq = 0;
for (let b = 0; b < BATCHES; b++) {
  const first = seq;
  let t = cpu();
  db.exec('BEGIN IMMEDIATE');
  for (let j = 0; j < BATCH; j++, seq++) {
    const device = (seq % DEVICES) + 1;
    stage.run(device, 1, seq, null, null, 20 + (seq % 100) / 10, null, null);
    stage.run(device, 2, seq, null, seq % 100, null, null, null);
    stage.run(device, 3, seq, seq % 2, null, null, null, null);
  }
  db.exec('COMMIT');
  spent.staged += cpu() - t;
  t = cpu();
  db.exec('BEGIN IMMEDIATE');
  for (let s = first; s < seq; s++) dedup.run('bench', `t/0/${s}`, Date.now());
  db.exec('COMMIT');
  spent.dedup += cpu() - t;
  // The platform merges every 50,000 rows staged: about every 17 batches here.
  if ((b + 1) % 17 === 0 || b === BATCHES - 1) {
    t = cpu();
    db.exec('BEGIN IMMEDIATE');
    for (let device = 1; device <= DEVICES; device++) {
      for (let key = 1; key <= 3; key++) latest.run(device, key, seq, null, null, 1.5, null, null);
    }
    spent.latest += cpu() - t;
    t = cpu();
    move.run();
    empty.run();
    db.exec('COMMIT');
    spent.merge += cpu() - t;
  }
}
db.close();
rmSync(dir, { recursive: true, force: true });
const per = (us) => us / seq;
const total = per(Object.values(spent).reduce((a, b) => a + b));
for (const [part, us] of Object.entries(spent)) console.log(`${part.padEnd(8)} ${per(us).toFixed(2)} µs/record`);
console.log(`total    ${total.toFixed(2)} µs/record: at most ${Math.round(1e6 / total).toLocaleString('en')} records/s on one core`);
