import { DeliveryError } from '@tbi/plugin-api';

// Primary SQLite result codes (https://sqlite.org/rescode.html) that say "the data is wrong":
// writing the same batch again fails the same way, so retrying cannot help.
const DATA_ERRORS = new Map<number, string>([
  [11, 'CORRUPT'],
  [18, 'TOOBIG'],
  [19, 'CONSTRAINT'],
  [20, 'MISMATCH'],
  [25, 'RANGE'],
  [26, 'NOTADB'],
]);

const NAMES: Record<number, string> = {
  1: 'ERROR',
  5: 'BUSY',
  6: 'LOCKED',
  7: 'NOMEM',
  8: 'READONLY',
  10: 'IOERR',
  13: 'FULL',
  14: 'CANTOPEN',
  15: 'PROTOCOL',
};

/** The extended SQLite result code of an error thrown by `node:sqlite`, if it is one. */
export function sqliteErrcode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; errcode?: unknown };
  return e.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number' ? e.errcode : undefined;
}

/**
 * Wraps a database failure as the `DeliveryError` the pipeline understands. Busy/locked,
 * I/O, disk full, read-only and the like are retryable (they pass); constraint and type errors
 * are not (the same data fails again).
 */
export function toDeliveryError(error: unknown, operation: string, context: Record<string, unknown> = {}): DeliveryError {
  const errcode = sqliteErrcode(error);
  const primary = errcode === undefined ? undefined : errcode & 0xff;
  const sqlite = primary === undefined ? undefined : (DATA_ERRORS.get(primary) ?? NAMES[primary] ?? String(primary));
  const retryable = primary === undefined || !DATA_ERRORS.has(primary);
  const reason = error instanceof Error ? error.message : String(error);
  return new DeliveryError(`embedded platform: ${operation} failed: ${reason}`, {
    cause: error,
    retryable,
    context: { ...context, operation, sqlite, errcode },
  });
}
