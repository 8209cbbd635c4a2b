import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { CommandStore } from './command-store.js';
import { inTransaction } from './transaction.js';
import type { RetentionResult } from './types.js';

const DAY_MS = 86_400_000;

export interface RetentionSettings {
  /** Unset or 0: telemetry is kept forever. */
  telemetryTtlDays?: number;
  dedupRetentionDays: number;
  /** Most rows deleted per transaction. */
  chunkSize: number;
  /** Called before each transaction (the writer thread lets the main thread's writes go first). */
  beforeTransaction?: () => void;
  /** Called before telemetry is deleted: moves the staged rows (`telemetry_recent`) into `telemetry`. */
  beforeTelemetry?: () => void;
}

/**
 * Deletes expired telemetry, old source positions and finished commands, a chunk per
 * transaction with a turn of the event loop in between, so that ingest and REST queries go on
 * while a large backlog is removed. Telemetry is deleted key by key along its primary key
 * (device, key, ts), which needs no separate index on `ts` that every insert would have to update.
 */
export class Retention {
  private readonly pairsAfter: StatementSync;
  private readonly deleteTelemetry: StatementSync;
  private readonly deleteProcessed: StatementSync;
  private readonly deleteCommands: StatementSync;
  private stopped = false;

  constructor(
    private readonly db: DatabaseSync,
    private readonly commands: CommandStore,
    private readonly settings: RetentionSettings,
  ) {
    this.pairsAfter = db.prepare(
      `SELECT device_id, key_id FROM telemetry_latest WHERE (device_id, key_id) > (?, ?)
       ORDER BY device_id, key_id LIMIT 1000`,
    );
    this.deleteTelemetry = db.prepare(
      `DELETE FROM telemetry WHERE device_id = :device AND key_id = :key AND ts IN (
         SELECT ts FROM telemetry WHERE device_id = :device AND key_id = :key AND ts < :cutoff ORDER BY ts LIMIT :limit)`,
    );
    this.deleteProcessed = db.prepare(
      `DELETE FROM processed_messages WHERE (integration, source_id) IN (
         SELECT integration, source_id FROM processed_messages WHERE stored_at < ? LIMIT ?)`,
    );
    this.deleteCommands = db.prepare(
      `DELETE FROM commands WHERE id IN (
         SELECT id FROM commands WHERE status NOT IN ('queued') AND updated_time < ? LIMIT ?)`,
    );
  }

  private transaction<T>(operation: string, fn: () => T): T {
    this.settings.beforeTransaction?.();
    return inTransaction(this.db, operation, fn);
  }

  /** Stops a run in progress after its current chunk. */
  stop(): void {
    this.stopped = true;
  }

  async run(now: number): Promise<RetentionResult> {
    const result: RetentionResult = { telemetry: 0, processedMessages: 0, commands: 0 };
    const ttl = this.settings.telemetryTtlDays;
    if (ttl !== undefined && ttl > 0) {
      this.settings.beforeTelemetry?.();
      result.telemetry = await this.telemetry(now - ttl * DAY_MS);
    }
    const historyCutoff = now - this.settings.dedupRetentionDays * DAY_MS;
    result.processedMessages = await this.chunked(this.deleteProcessed, historyCutoff);
    this.transaction('expire commands', () => this.commands.expireDue(now));
    result.commands = await this.chunked(this.deleteCommands, historyCutoff);
    return result;
  }

  private async telemetry(cutoff: number): Promise<number> {
    const limit = this.settings.chunkSize;
    let deleted = 0;
    let after: [number, number] = [-1, -1];
    while (!this.stopped) {
      const pairs = this.pairsAfter.all(...after) as unknown as { device_id: number; key_id: number }[];
      if (pairs.length === 0) break;
      let i = 0;
      while (i < pairs.length && !this.stopped) {
        // One transaction deletes up to `limit` rows, over as many keys as that takes.
        deleted += this.transaction('retention', () => {
          let inChunk = 0;
          while (i < pairs.length && inChunk < limit) {
            const { device_id: device, key_id: key } = pairs[i]!;
            const n = Number(this.deleteTelemetry.run({ device, key, cutoff, limit: limit - inChunk }).changes);
            inChunk += n;
            if (inChunk < limit) i++; // this key is done; otherwise it may have more rows
          }
          return inChunk;
        });
        await yieldToEventLoop();
      }
      const last = pairs[pairs.length - 1]!;
      after = [last.device_id, last.key_id];
    }
    return deleted;
  }

  private async chunked(statement: StatementSync, cutoff: number): Promise<number> {
    let deleted = 0;
    while (!this.stopped) {
      const n = this.transaction('retention', () => Number(statement.run(cutoff, this.settings.chunkSize).changes));
      deleted += n;
      if (n < this.settings.chunkSize) break;
      await yieldToEventLoop();
    }
    return deleted;
  }
}
