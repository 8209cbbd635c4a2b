import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { invalidArgument } from './errors.js';
import { decodeValue, encodeValue, type TypedColumns } from './typed-value.js';
import type { Attribute, AttributeScope } from './types.js';

const SCOPES: Record<string, AttributeScope> = {
  client: 'client',
  shared: 'shared',
  server: 'server',
  client_scope: 'client',
  shared_scope: 'shared',
  server_scope: 'server',
};

/** Accepts `client|shared|server` and ThingsBoard's `CLIENT_SCOPE|SHARED_SCOPE|SERVER_SCOPE`. */
export function parseScope(scope: string): AttributeScope {
  const parsed = SCOPES[scope.toLowerCase()];
  if (parsed === undefined) throw invalidArgument('scope must be client, shared or server', { scope });
  return parsed;
}

/** Checks that `values` is a non-empty flat object of key/values. */
export function checkAttributeValues(values: unknown): Record<string, unknown> {
  if (typeof values !== 'object' || values === null || Array.isArray(values) || Object.keys(values).length === 0) {
    throw invalidArgument('attributes must be a JSON object with at least one key');
  }
  if (Object.keys(values).some((k) => k === '')) throw invalidArgument('attribute keys must not be empty');
  return values as Record<string, unknown>;
}

/** Attribute reads and writes of one scope of one device. */
export class AttributeStore {
  private readonly read: StatementSync;
  private readonly put: StatementSync;

  constructor(db: DatabaseSync) {
    this.read = db.prepare('SELECT key, last_update_ts, bool_v, long_v, dbl_v, str_v, json_v FROM attributes WHERE device_id = ? AND scope = ? ORDER BY key');
    this.put = db.prepare(
      `INSERT INTO attributes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id, scope, key) DO UPDATE SET last_update_ts = excluded.last_update_ts,
         bool_v = excluded.bool_v, long_v = excluded.long_v, dbl_v = excluded.dbl_v,
         str_v = excluded.str_v, json_v = excluded.json_v`,
    );
  }

  get(deviceId: number, scope: AttributeScope, keys?: readonly string[]): Attribute[] {
    const wanted = keys && keys.length > 0 ? new Set(keys) : undefined;
    const rows = this.read.all(deviceId, scope) as unknown as (TypedColumns & { key: string; last_update_ts: number })[];
    return rows.filter((r) => wanted === undefined || wanted.has(r.key)).map((r) => ({ key: r.key, value: decodeValue(r), lastUpdateTs: r.last_update_ts }));
  }

  /** Writes inside the caller's transaction. */
  set(deviceId: number, scope: AttributeScope, values: Record<string, unknown>, now: number): void {
    for (const [key, value] of Object.entries(values)) {
      const c = encodeValue(value);
      this.put.run(deviceId, scope, key, now, c.bool_v, c.long_v, c.dbl_v, c.str_v, c.json_v);
    }
  }
}
