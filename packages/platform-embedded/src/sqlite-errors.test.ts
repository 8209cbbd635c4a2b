import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { toDeliveryError } from './sqlite-errors.js';

function sqliteError(sql: string): unknown {
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE t (v TEXT NOT NULL)');
  try {
    db.exec(sql);
  } catch (error) {
    return error;
  } finally {
    db.close();
  }
  throw new Error('expected a failure');
}

describe('toDeliveryError', () => {
  it('marks constraint failures as not retryable', () => {
    const error = toDeliveryError(sqliteError('INSERT INTO t VALUES (NULL)'), 'ingest', { items: 1 });
    expect(error).toMatchObject({ code: 'DELIVERY_FAILED', retryable: false, context: { sqlite: 'CONSTRAINT', operation: 'ingest', items: 1 } });
    expect(error.message).toContain('NOT NULL');
  });

  it('treats other database failures and unknown errors as retryable', () => {
    expect(toDeliveryError(sqliteError('SELECT * FROM missing'), 'read')).toMatchObject({ retryable: true, context: { sqlite: 'ERROR' } });
    expect(toDeliveryError(new Error('disk went away'), 'commit')).toMatchObject({ retryable: true });
  });
});
