// Entry of the writer thread (a `worker_threads` Worker started by `writer-client.ts`). It owns
// the connection that ingests: BEGIN … COMMIT with its fsync (synchronous=FULL) runs here, not on
// the host's event loop. Calls that arrive while a commit is in progress are queued by the port
// and committed together next (group commit): the busier the host, the more calls share an fsync.
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import type { Logger } from '@tbi/plugin-api';
import { CommandStore } from './command-store.js';
import { IngestQueue } from './ingest-queue.js';
import { IngestWriter } from './ingest-writer.js';
import { applyConnectionSettings, applyWriterSettings, WRITER_CACHE_MIB } from './open-database.js';
import { Retention } from './retention.js';
import { StagedLatest } from './staged-latest.js';
import { TelemetryMerge } from './telemetry-merge.js';
import { WriteGate } from './write-gate.js';
import { serializeError, type WriterMessage, type WriterRequest, type WriterSettings } from './writer-protocol.js';

const port = parentPort!;
const settings = workerData as WriterSettings;
// Answers settled in the same run of microtasks (the calls of one group commit) go in one message.
let outbox: WriterMessage[] = [];
function send(message: WriterMessage): void {
  if (outbox.length === 0) {
    queueMicrotask(() => {
      const messages = outbox;
      outbox = [];
      port.postMessage(messages);
    });
  }
  outbox.push(message);
}

/** Forwards log lines to the main thread's logger (errors as plain fields: they are cloned). */
const logger: Logger = (() => {
  const at = (level: 'warn' | 'error' | 'info') => (fields: unknown, msg?: string) => {
    const f = { ...(fields as Record<string, unknown>) };
    if (f.err !== undefined) f.err = serializeError(f.err);
    send({ type: 'log', level, fields: f, msg: msg ?? '' });
  };
  const noop = () => {};
  const self = { info: at('info'), warn: at('warn'), error: at('error'), debug: noop, trace: noop, fatal: at('error'), child: () => self };
  return self as unknown as Logger;
})();

function open(): { db: DatabaseSync; queue: IngestQueue; retention: Retention; merge: TelemetryMerge } {
  const db = new DatabaseSync(settings.file, { timeout: settings.busyTimeoutMs });
  try {
    applyConnectionSettings(db, WRITER_CACHE_MIB);
    applyWriterSettings(db);
    const gate = new WriteGate(settings.gate);
    const latest = new StagedLatest(db);
    // Rows staged before a crash or stop: their newest values may be missing from telemetry_latest.
    latest.recover();
    const merge = new TelemetryMerge(
      db,
      {
        rows: settings.merge.rows,
        // A backlog (e.g. after a long stop of merges) is moved in several transactions.
        maxRowsPerMerge: Math.max(settings.merge.rows * 2, 1000),
        beforeTransaction: () => gate.yield(),
      },
      latest,
    );
    const retention = new Retention(db, new CommandStore(db), {
      telemetryTtlDays: settings.telemetryTtlDays,
      dedupRetentionDays: settings.dedupRetentionDays,
      chunkSize: 5000,
      beforeTransaction: () => gate.yield(),
      // Retention deletes along the clustered table: staged rows are moved there first.
      beforeTelemetry: () => {
        mergeNow(merge, 'all');
      },
    });
    const queue = new IngestQueue(
      db,
      new IngestWriter(db, latest, settings.logRecords),
      logger,
      () => gate.yield(),
      (rows) => {
        merge.added(rows);
        if (merge.due()) scheduleMerge();
      },
    );
    return { db, queue, retention, merge };
  } catch (error) {
    db.close();
    throw error;
  }
}

// A connection that cannot be opened throws here: the thread ends with that error, the main
// thread fails the requests sent to it (retryable) and starts a new thread for the next one.
const state = open();
port.on('message', (requests: WriterRequest[]) => {
  for (const request of requests) handle(state, request);
});
let retentionRun: Promise<unknown> | undefined;

// Merges run between ingest groups (never inside one): a merge due after a commit runs once the
// thread has answered the callers of that commit, and the timer catches the rows of a slow trickle.
let mergeScheduled: NodeJS.Immediate | undefined;
function scheduleMerge(): void {
  mergeScheduled ??= setImmediate(() => {
    mergeScheduled = undefined;
    mergeNow(state.merge, 'once');
    if (state.merge.due()) scheduleMerge();
  });
}
const mergeTimer = setInterval(() => {
  if (state.merge.pending > 0) mergeNow(state.merge, 'once');
}, settings.merge.intervalMs);

/** Merges, logging a failure: the rows stay in `telemetry_recent`, the next merge tries again. */
function mergeNow(merge: TelemetryMerge, amount: 'once' | 'all'): number {
  try {
    return amount === 'all' ? merge.mergeAll() : merge.mergeOnce();
  } catch (error) {
    logger.warn({ err: error, pending: merge.pending }, 'embedded platform: telemetry merge failed, rolled back; will try again');
    return 0;
  }
}

function answer(id: number, work: () => unknown): void {
  try {
    Promise.resolve(work()).then(
      (value) => send({ type: 'result', id, value }),
      (error: unknown) => send({ type: 'error', id, error: serializeError(error) }),
    );
  } catch (error) {
    send({ type: 'error', id, error: serializeError(error) });
  }
}

function handle({ db, queue, retention, merge }: typeof state, request: WriterRequest): void {
  switch (request.op) {
    case 'ready':
      answer(request.id, () => undefined);
      return;
    case 'ingest':
      answer(request.id, () => queue.enqueue(request.items, request.now));
      return;
    case 'retention':
      // Retention yields between chunks, so ingest groups commit in between.
      answer(request.id, () => {
        queue.flush();
        const run = retention.run(request.now);
        retentionRun = run
          .finally(() => {
            retentionRun = undefined;
          })
          .catch(() => {});
        return run;
      });
      return;
    case 'stopRetention':
      answer(request.id, () => retention.stop());
      return;
    case 'merge':
      answer(request.id, () => {
        queue.flush();
        return merge.mergeAll();
      });
      return;
    case 'pragma':
      answer(request.id, () => Object.values(db.prepare(`PRAGMA ${request.name.replace(/[^a-z_]/g, '')}`).get() ?? {})[0]);
      return;
    case 'close':
      answer(request.id, async () => {
        retention.stop();
        await retentionRun;
        queue.flush();
        clearInterval(mergeTimer);
        if (mergeScheduled !== undefined) clearImmediate(mergeScheduled);
        // Not needed for durability (staged rows are committed); it leaves the next start, and
        // other readers of the file, with a clustered table only.
        mergeNow(merge, 'all');
        db.close();
        // The main thread terminates the thread once it has this answer.
      });
      return;
  }
}
