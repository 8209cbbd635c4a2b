import { invalidArgument } from './errors.js';
import { EmbeddedPlatform } from './embedded-platform.js';
import { openDatabase } from './open-database.js';
import { silentLogger } from './silent-logger.js';
import type { EmbeddedPlatformOptions } from './types.js';
import { WriteGate } from './write-gate.js';
import { WriterClient } from './writer-client.js';
import type { MergeTiming } from './writer-protocol.js';

/**
 * When staged telemetry is merged into the clustered table: every 2 s, or at 50 000 rows. Each
 * telemetry query scans `telemetry_recent` (no index: one cost ~20% of ingest), about 1.3 ms at
 * 50 000 rows; ingest measured the same at 30 000, 50 000, 100 000 and 200 000 rows per merge.
 */
export const DEFAULT_MERGE: MergeTiming = { intervalMs: 2000, rows: 50_000 };

/**
 * Opens (creating if needed) the embedded platform in `dataDir`.
 *
 * @example
 * const platform = await openEmbeddedPlatform({ dataDir: '.data/platform', telemetryTtlDays: 30 });
 * await platform.ingest([{ integration: 'mqtt-1', sourceId: 't/0/42', records }]);
 */
export function openEmbeddedPlatform(options: EmbeddedPlatformOptions): Promise<EmbeddedPlatform> {
  return openWithMerge(options, DEFAULT_MERGE);
}

/** @internal `openEmbeddedPlatform` with other merge timings (tests, benchmarks); not exported by the package. */
export async function openWithMerge(options: EmbeddedPlatformOptions, merge: MergeTiming): Promise<EmbeddedPlatform> {
  checkOptions(options);
  const busyTimeoutMs = options.busyTimeoutMs ?? 100;
  const logger = (options.logger ?? silentLogger).child({ component: 'platform-embedded' });
  // The main connection creates or migrates the schema before the writer thread opens its own.
  const { db, file } = openDatabase(options.dataDir, busyTimeoutMs);
  const gate = new WriteGate();
  let writer: WriterClient;
  try {
    writer = await WriterClient.start(
      {
        file,
        busyTimeoutMs,
        telemetryTtlDays: options.telemetryTtlDays,
        dedupRetentionDays: options.dedupRetentionDays ?? 7,
        gate: gate.buffer,
        merge,
        logRecords: (options.recordLog?.readers.length ?? 0) > 0,
      },
      logger,
    );
  } catch (error) {
    db.close();
    throw error;
  }
  return new EmbeddedPlatform(db, file, options, writer, gate, logger);
}

function checkOptions(o: EmbeddedPlatformOptions): void {
  const positive = (name: string, v: number | undefined, allowZero = false) => {
    if (v !== undefined && !(Number.isFinite(v) && (allowZero ? v >= 0 : v > 0))) {
      throw invalidArgument(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`, { [name]: v });
    }
  };
  if (typeof o?.dataDir !== 'string' || o.dataDir === '') throw invalidArgument('dataDir must be a directory path');
  positive('telemetryTtlDays', o.telemetryTtlDays, true);
  positive('retentionIntervalMs', o.retentionIntervalMs);
  positive('dedupRetentionDays', o.dedupRetentionDays);
  positive('busyTimeoutMs', o.busyTimeoutMs, true);
  positive('rpcTimeoutMs.default', o.rpcTimeoutMs?.default);
  positive('rpcTimeoutMs.max', o.rpcTimeoutMs?.max);
}
