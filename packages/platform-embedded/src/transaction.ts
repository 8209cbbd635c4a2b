import type { DatabaseSync } from 'node:sqlite';
import { toDeliveryError } from './sqlite-errors.js';

/**
 * Runs `fn` in a write transaction and returns its result once committed. A database failure
 * comes out as a `DeliveryError`; other errors (bad arguments found inside `fn`) as they are.
 */
export function inTransaction<T>(db: DatabaseSync, operation: string, fn: () => T): T {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    throw toDeliveryError(error, operation);
  }
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    if ((error as { code?: unknown }).code === 'ERR_SQLITE_ERROR') throw toDeliveryError(error, operation);
    throw error;
  }
}
