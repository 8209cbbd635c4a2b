import type { DatabaseSync } from 'node:sqlite';
import { PlatformError } from './errors.js';

/** The schema version this code writes; kept in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 3;

// Modelled on ThingsBoard's tables: `device`, `ts_kv` (+ `key_dictionary`), `ts_kv_latest`,
// `attribute_kv`, `rpc`. Names are unique across devices and assets (one namespace), which keeps
// `PlatformCommand.deviceName` unambiguous. Telemetry and attribute rows are WITHOUT ROWID
// tables clustered on their primary key, so a range query for one key of one device reads
// consecutive pages and retention deletes by key range without a separate `ts` index.
const V1 = `
CREATE TABLE devices (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  entity_type   TEXT NOT NULL CHECK (entity_type IN ('DEVICE', 'ASSET')),
  type          TEXT NOT NULL,
  customer      TEXT,
  group_name    TEXT,
  integration   TEXT,
  created_time  INTEGER NOT NULL,
  last_seen     INTEGER NOT NULL
);
CREATE INDEX devices_type ON devices (type, name);

CREATE TABLE telemetry_keys (
  id   INTEGER PRIMARY KEY,
  key  TEXT NOT NULL UNIQUE
);

CREATE TABLE telemetry (
  device_id  INTEGER NOT NULL,
  key_id     INTEGER NOT NULL,
  ts         INTEGER NOT NULL,
  bool_v     INTEGER,
  long_v     INTEGER,
  dbl_v      REAL,
  str_v      TEXT,
  json_v     TEXT,
  PRIMARY KEY (device_id, key_id, ts)
) WITHOUT ROWID;

CREATE TABLE telemetry_latest (
  device_id  INTEGER NOT NULL,
  key_id     INTEGER NOT NULL,
  ts         INTEGER NOT NULL,
  bool_v     INTEGER,
  long_v     INTEGER,
  dbl_v      REAL,
  str_v      TEXT,
  json_v     TEXT,
  PRIMARY KEY (device_id, key_id)
) WITHOUT ROWID;

CREATE TABLE attributes (
  device_id       INTEGER NOT NULL,
  scope           TEXT NOT NULL CHECK (scope IN ('client', 'shared', 'server')),
  key             TEXT NOT NULL,
  last_update_ts  INTEGER NOT NULL,
  bool_v          INTEGER,
  long_v          INTEGER,
  dbl_v           REAL,
  str_v           TEXT,
  json_v          TEXT,
  PRIMARY KEY (device_id, scope, key)
) WITHOUT ROWID;

CREATE TABLE processed_messages (
  integration  TEXT NOT NULL,
  source_id    TEXT NOT NULL,
  stored_at    INTEGER NOT NULL,
  PRIMARY KEY (integration, source_id)
) WITHOUT ROWID;
CREATE INDEX processed_messages_stored_at ON processed_messages (stored_at);

CREATE TABLE commands (
  id           TEXT PRIMARY KEY,
  device_id    INTEGER NOT NULL,
  msg_type     TEXT NOT NULL,
  msg          TEXT NOT NULL,
  metadata     TEXT NOT NULL,
  oneway       INTEGER NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'failed', 'replied', 'expired')),
  created_time INTEGER NOT NULL,
  updated_time INTEGER NOT NULL,
  expires_at   INTEGER,
  error        TEXT,
  response     TEXT
);
CREATE INDEX commands_device ON commands (device_id, created_time);
CREATE INDEX commands_status ON commands (status, updated_time);
`;

// v2: the staging table of telemetry (see `telemetry-merge.ts`). Ingest appends here (a rowid
// table: a batch's rows land on consecutive pages whatever devices they belong to), and the
// writer thread moves the rows into the clustered `telemetry` table in bulk. Reads see both.
const V2 = `
CREATE TABLE telemetry_recent (
  device_id  INTEGER NOT NULL,
  key_id     INTEGER NOT NULL,
  ts         INTEGER NOT NULL,
  bool_v     INTEGER,
  long_v     INTEGER,
  dbl_v      REAL,
  str_v      TEXT,
  json_v     TEXT
);
`;

// v3: the log of stored records that exports read (`record-log.ts`), written by ingest in the same
// transaction as the data when the platform is opened with readers. AUTOINCREMENT: a seq is never
// used twice, even after every entry was trimmed, or a reader's cursor would skip new entries.
const V3 = `
CREATE TABLE record_log (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  stored_at    INTEGER NOT NULL,
  integration  TEXT NOT NULL,
  created      INTEGER NOT NULL,
  record       TEXT NOT NULL
);
CREATE TABLE record_log_cursors (
  reader  TEXT PRIMARY KEY,
  seq     INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Creates or upgrades the schema in one transaction. Refuses a database from a newer version
 * rather than guess at its layout.
 */
export function migrate(db: DatabaseSync, file: string): void {
  const { user_version: version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
  if (version > SCHEMA_VERSION) {
    throw new PlatformError(
      'SCHEMA_TOO_NEW',
      `${file} has schema version ${version}, this @tbi/platform-embedded reads up to ${SCHEMA_VERSION}: upgrade the package`,
      { context: { file, version, supported: SCHEMA_VERSION } },
    );
  }
  if (version === SCHEMA_VERSION) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    if (version < 1) db.exec(V1);
    if (version < 2) db.exec(V2);
    if (version < 3) db.exec(V3);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
