import { DeliveryError, isTbiError, ShutdownError, TbiError, type IngestItem } from '@tbi/plugin-api';
import type { IngestResult } from './ingest-queue.js';
import type { RetentionResult } from './types.js';

/** What the writer thread is started with (`workerData`). */
export interface WriterSettings {
  /** The database file; the main thread has created and migrated it already. */
  file: string;
  busyTimeoutMs: number;
  telemetryTtlDays: number | undefined;
  dedupRetentionDays: number;
  /** Shared memory of the `WriteGate`. */
  gate: SharedArrayBuffer;
  /** When `telemetry_recent` is merged into `telemetry` (see `telemetry-merge.ts`). */
  merge: MergeTiming;
  /** Whether ingest writes the log of stored records (`record-log.ts`): only when exports read it. */
  logRecords: boolean;
}

/** When the writer thread merges `telemetry_recent` into `telemetry`: whichever comes first. */
export interface MergeTiming {
  /** Every this many ms while rows wait. */
  intervalMs: number;
  /** As soon as this many rows wait. */
  rows: number;
}

/**
 * Requests from the main thread; each is answered by one `WriterResponse` with the same `id`
 * (`ready` once the thread has opened its connection).
 */
export type WriterRequest = { id: number } & (
  | { op: 'ready' }
  | { op: 'ingest'; items: readonly IngestItem[]; now: number }
  | { op: 'retention'; now: number }
  | { op: 'stopRetention' }
  /** Merges every row of `telemetry_recent` into `telemetry` now (tests, benchmarks). */
  | { op: 'merge' }
  /** Reads a pragma of the writer's connection (tests check its durability settings). */
  | { op: 'pragma'; name: string }
  /** Commits what is queued, stops, closes the connection; the thread then ends. */
  | { op: 'close' }
);

/** The value each request resolves with. */
export interface WriterResults {
  ready: undefined;
  ingest: IngestResult;
  retention: RetentionResult;
  stopRetention: undefined;
  merge: number;
  pragma: unknown;
  close: undefined;
}

/** Messages from the writer thread. */
export type WriterMessage =
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'log'; level: 'warn' | 'error' | 'info'; fields: Record<string, unknown>; msg: string };

/**
 * An error that crosses the thread boundary. Structured clone keeps only message and stack of an
 * `Error`, so the fields the pipeline reads (`code`, `retryable`, `context`) travel explicitly
 * and the error is rebuilt as the same class on the other side.
 */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  retryable?: boolean;
  context?: Record<string, unknown>;
  /** The SQLite error under a `DeliveryError`: code `ERR_SQLITE_ERROR`, `errcode`, `errstr`. */
  cause?: { message: string; code?: unknown; errcode?: unknown; errstr?: unknown };
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const out: SerializedError = { name: error.name, message: error.message };
  if (isTbiError(error)) {
    out.code = error.code;
    out.context = cloneable(error.context);
  }
  if (error instanceof DeliveryError) out.retryable = error.retryable;
  const cause = error.cause;
  if (cause instanceof Error) {
    const c = cause as Error & { code?: unknown; errcode?: unknown; errstr?: unknown };
    out.cause = { message: c.message, code: c.code, errcode: c.errcode, errstr: c.errstr };
  }
  return out;
}

export function deserializeError(e: SerializedError): Error {
  const cause =
    e.cause === undefined
      ? undefined
      : Object.assign(new Error(e.cause.message), {
          code: e.cause.code,
          errcode: e.cause.errcode,
          errstr: e.cause.errstr,
        });
  if (e.code === 'DELIVERY_FAILED') {
    return new DeliveryError(e.message, { retryable: e.retryable ?? true, context: e.context ?? {}, cause });
  }
  if (e.code === 'SHUTTING_DOWN') return new ShutdownError(e.message);
  if (e.code !== undefined) return new TbiError(e.code, e.message, { context: e.context ?? {}, cause });
  return Object.assign(new Error(e.message, { cause }), { name: e.name });
}

/** Context values are plain data by convention; anything else is sent as its string form. */
function cloneable(context: Record<string, unknown>): Record<string, unknown> {
  try {
    return structuredClone(context);
  } catch {
    return Object.fromEntries(
      Object.entries(context).map(([k, v]) => [k, v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v) ? v : String(v)]),
    );
  }
}
