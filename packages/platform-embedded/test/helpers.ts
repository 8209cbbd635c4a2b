import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { DeviceRecord, IngestItem, PlatformCommand } from '@tbi/plugin-api';
import type { EmbeddedPlatform, EmbeddedPlatformOptions } from '../src/index.js';
import { DATABASE_FILE } from '../src/open-database.js';
import { DEFAULT_MERGE, openWithMerge } from '../src/open-platform.js';
import type { MergeTiming } from '../src/writer-protocol.js';

/** Merge timing that never merges on its own: tests merge with `mergeNow`. */
export const MANUAL_MERGE: MergeTiming = { intervalMs: 3_600_000, rows: Number.MAX_SAFE_INTEGER };

/** Merges every staged telemetry row into the clustered table now; resolves with how many. */
export function mergeNow(platform: EmbeddedPlatform): Promise<number> {
  // The writer client is private: tests reach it as the platform's own methods do.
  // biome-ignore lint/complexity/useLiteralKeys: bracket access reaches a private member in tests.
  return platform['writer'].request('merge', {});
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public ms = Date.UTC(2025, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A fresh data directory and platform; `cleanup` closes and removes both. */
export async function tempPlatform(options: Partial<EmbeddedPlatformOptions> = {}, merge: MergeTiming = DEFAULT_MERGE) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tbi-platform-'));
  const clock = new ManualClock();
  const platform = await openWithMerge({ dataDir, clock, ...options }, merge);
  return {
    dataDir,
    clock,
    platform,
    reopen: async (more: Partial<EmbeddedPlatformOptions> = {}): Promise<EmbeddedPlatform> => openWithMerge({ dataDir, clock, ...options, ...more }, merge),
    /** A second connection to the same database file, as another process would have. */
    secondConnection: (): DatabaseSync => new DatabaseSync(path.join(dataDir, DATABASE_FILE), { timeout: 1000 }),
    cleanup: async () => {
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function record(deviceName: string, fields: Partial<DeviceRecord> = {}): DeviceRecord {
  return { entityType: 'DEVICE', deviceName, deviceType: 'thermostat', attributes: {}, telemetry: [], ...fields };
}

export function item(records: DeviceRecord[], sourceId?: string, integration = 'mqtt-1'): IngestItem {
  return sourceId === undefined ? { integration, records } : { integration, sourceId, records };
}

/** Collects the commands the platform emits. */
export function collectCommands(platform: EmbeddedPlatform): PlatformCommand[] {
  const seen: PlatformCommand[] = [];
  platform.onCommand((c) => seen.push(c));
  return seen;
}

/** Counts rows of a table through a separate connection (what is really on disk). */
export function countRows(db: DatabaseSync, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/**
 * Every stored telemetry row, merged (`telemetry`) or staged (`telemetry_recent`), as a subquery
 * for tests that look at the rows on disk.
 */
export const ALL_TELEMETRY = `(SELECT device_id, key_id, ts, bool_v, long_v, dbl_v, str_v, json_v FROM telemetry
  UNION ALL SELECT device_id, key_id, ts, bool_v, long_v, dbl_v, str_v, json_v FROM telemetry_recent)`;

/** Telemetry rows on disk, merged or not. */
export function countTelemetryRows(db: DatabaseSync): number {
  return countRows(db, ALL_TELEMETRY);
}
