import type { DatabaseSync } from 'node:sqlite';
import { DeliveryError, type IngestItem, type Logger, type RpcReply } from '@tbi/plugin-api';
import type { CallWrite, IngestWriter } from './ingest-writer.js';
import { toDeliveryError } from './sqlite-errors.js';
import { findInvalidItem } from './validate-items.js';

/** What a committed call stored, and the RPC replies it carried (for the waiting callers). */
export interface IngestResult {
  stored: number;
  duplicates: number;
  replies: RpcReply[];
}

interface PendingCall {
  items: readonly IngestItem[];
  /** The host's clock when the call was made: `stored_at`, `last_seen`, attribute times. */
  now: number;
  resolve: (result: IngestResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: `ingest` calls made in the same turn of the event loop (several integrations
 * storing at once) share one transaction and so one fsync. Each call runs in its own SAVEPOINT,
 * so a call with bad data is rolled back alone and the others commit; a store failure (locked,
 * I/O, disk full) or a failed COMMIT fails every call of the group, and none of them is stored.
 * A call's promise settles only after the COMMIT has returned, i.e. once the data is durable.
 *
 * It runs on the writer thread (`writer-thread.ts`): calls that arrive while a commit is in
 * progress queue up and form the next group, so the fsync is shared more the busier it gets.
 */
export class IngestQueue {
  private pending: PendingCall[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly db: DatabaseSync,
    private readonly writer: IngestWriter,
    private readonly logger: Logger,
    /** Called before each BEGIN (the writer thread lets the main thread's writes go first). */
    private readonly beforeBegin: () => void = () => {},
    /** Called after each COMMIT with the telemetry rows the group appended to `telemetry_recent`. */
    private readonly afterCommit: (telemetryRows: number) => void = () => {},
  ) {}

  enqueue(items: readonly IngestItem[], now: number): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, now, resolve, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Writes everything queued now (also called by `close`). */
  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const calls = this.pending;
    this.pending = [];
    if (calls.length > 0) this.commitGroup(calls);
  }

  private commitGroup(calls: PendingCall[]): void {
    this.beforeBegin();
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      this.failAll(calls, toDeliveryError(error, 'begin transaction', { calls: calls.length }));
      return;
    }
    const writes: (CallWrite | Error)[] = [];
    for (const [index, call] of calls.entries()) {
      const invalid = findInvalidItem(call.items);
      if (invalid !== undefined) {
        writes.push(new DeliveryError(`embedded platform: invalid ingest: ${invalid}`, { retryable: false, context: { problem: invalid } }));
        continue;
      }
      this.db.exec('SAVEPOINT ingest_call');
      try {
        writes.push(this.writer.write(call.items, call.now));
        this.db.exec('RELEASE ingest_call');
      } catch (cause) {
        const error = toDeliveryError(cause, 'ingest', { items: call.items.length });
        if (error.retryable || !this.db.isTransaction) {
          // The store itself failed (SQLite may even have rolled the transaction back on its own):
          // keep nothing of the group, so each caller retries what it sent.
          this.rollback();
          this.failAll(calls, error, index);
          return;
        }
        this.db.exec('ROLLBACK TO ingest_call');
        this.db.exec('RELEASE ingest_call');
        writes.push(error);
      }
    }
    try {
      this.db.exec('COMMIT');
    } catch (error) {
      this.rollback();
      this.failAll(calls, toDeliveryError(error, 'commit', { calls: calls.length }));
      return;
    }
    let telemetryRows = 0;
    for (const write of writes) if (!(write instanceof Error)) telemetryRows += write.telemetryRows;
    this.afterCommit(telemetryRows);
    for (const [index, call] of calls.entries()) {
      const write = writes[index]!;
      if (write instanceof Error) {
        call.reject(write);
        continue;
      }
      this.writer.committed(write, call.now);
      call.resolve({ stored: write.stored, duplicates: write.duplicates, replies: write.replies });
    }
  }

  private rollback(): void {
    try {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
    } catch (error) {
      this.logger.error({ err: error }, 'embedded platform: rollback failed');
    }
  }

  private failAll(calls: PendingCall[], error: DeliveryError, culprit?: number): void {
    this.logger.warn({ err: error, calls: calls.length }, 'embedded platform: ingest failed, nothing of the batch was stored');
    for (const [index, call] of calls.entries()) {
      if (culprit === undefined || index === culprit) call.reject(error);
      else
        call.reject(
          new DeliveryError('embedded platform: ingest rolled back with another batch of the same transaction', {
            cause: error,
            retryable: true,
          }),
        );
    }
  }
}
