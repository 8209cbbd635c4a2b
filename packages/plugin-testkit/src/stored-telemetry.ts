import { DatabaseSync } from 'node:sqlite';
import path from 'node:path';
import { DATABASE_FILE } from '@tbi/platform-embedded';

// Telemetry on disk, merged into `telemetry` or still staged in `telemetry_recent` (see the
// embedded platform's README): a message stored twice shows as two rows here.
const STORED_TELEMETRY = `(SELECT device_id, key_id, ts, long_v, dbl_v FROM telemetry UNION ALL SELECT device_id, key_id, ts, long_v, dbl_v FROM telemetry_recent)`;

/** Which devices to read: those whose name starts with `prefix`, or the one called `name`. */
export type DeviceFilter = { prefix: string } | { name: string };

/**
 * The numeric values of telemetry `key` a host's embedded platform holds for some devices, read
 * read-only from the platform's database in `dataDir` while the host runs or after it was killed: one entry per
 * stored row, so a message stored twice counts twice. Empty until the database and its tables exist.
 *
 * @example
 * await waitFor(() => storedTelemetry(dataDir, 'n', { prefix: 'kill-' }).length === 1000, '1000 rows');
 */
export function storedTelemetry(dataDir: string, key: string, devices: DeviceFilter): number[] {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path.join(dataDir, DATABASE_FILE), { readOnly: true });
  } catch {
    return []; // the host has not created its database yet
  }
  try {
    const [where, arg] = 'prefix' in devices ? [`d.name LIKE ? || '%'`, devices.prefix] : ['d.name = ?', devices.name];
    const rows = db
      .prepare(
        `SELECT COALESCE(t.long_v, t.dbl_v) AS v FROM ${STORED_TELEMETRY} t JOIN devices d ON d.id = t.device_id JOIN telemetry_keys k ON k.id = t.key_id
         WHERE k.key = ? AND ${where}`,
      )
      .all(key, arg) as Array<{ v: number }>;
    return rows.map((r) => Number(r.v));
  } catch {
    return []; // the tables do not exist yet
  } finally {
    db.close();
  }
}
