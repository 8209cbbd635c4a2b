import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { DeviceRecord, IngestItem, RpcReply } from '@tbi/plugin-api';
import { encodeValue, type TypedColumns } from './typed-value.js';

/** What one `ingest` call wrote, before its transaction commits. */
export interface CallWrite {
  stored: number;
  duplicates: number;
  /** Telemetry rows appended to `telemetry_recent` (the merge counts them once committed). */
  telemetryRows: number;
  /**
   * Device and key ids the call created or looked up. They are cached only once the transaction
   * has committed: a row found here may have been created by an earlier, uncommitted call.
   */
  newDevices: Map<string, number>;
  newKeys: Map<string, number>;
  /** Replies to RPCs matched in the database, handed to the waiting callers after the commit. */
  replies: RpcReply[];
}

// Bounded so that millions of devices cannot grow memory without limit; a miss costs one
// indexed SELECT.
const MAX_CACHED = 100_000;

type Columns = [number | null, number | null, number | null, string | null, string | null];

interface Latest {
  deviceId: number;
  keyId: number;
  ts: number;
  columns: Columns;
}

function columns(c: TypedColumns): Columns {
  return [c.bool_v, c.long_v, c.dbl_v, c.str_v, c.json_v];
}

/**
 * Writes the items of one `ingest` call inside the caller's open transaction. The ids caches
 * hold only committed rows: a rolled-back call must not leave ids that no longer exist.
 */
export class IngestWriter {
  private readonly deviceIds = new Map<string, number>();
  private readonly keyIds = new Map<string, number>();
  private readonly s: Record<
    'markProcessed' | 'findDevice' | 'insertDevice' | 'touchDevice' | 'findKey' | 'insertKey' | 'putTelemetry' | 'putLatest' | 'putAttribute' | 'reply',
    StatementSync
  >;

  constructor(db: DatabaseSync) {
    this.s = {
      markProcessed: db.prepare('INSERT INTO processed_messages (integration, source_id, stored_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      findDevice: db.prepare('SELECT id FROM devices WHERE name = ?'),
      insertDevice: db.prepare(
        `INSERT INTO devices (name, entity_type, type, customer, group_name, integration, created_time, last_seen)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      touchDevice: db.prepare('UPDATE devices SET last_seen = ?, integration = ? WHERE id = ?'),
      findKey: db.prepare('SELECT id FROM telemetry_keys WHERE key = ?'),
      insertKey: db.prepare('INSERT INTO telemetry_keys (key) VALUES (?)'),
      // Appended to the staging table (consecutive pages); `telemetry-merge.ts` moves the rows into
      // the clustered table in bulk.
      putTelemetry: db.prepare('INSERT INTO telemetry_recent VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      putLatest: db.prepare(
        `INSERT INTO telemetry_latest VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (device_id, key_id) DO UPDATE SET ts = excluded.ts, bool_v = excluded.bool_v,
           long_v = excluded.long_v, dbl_v = excluded.dbl_v, str_v = excluded.str_v, json_v = excluded.json_v
         WHERE excluded.ts >= telemetry_latest.ts`,
      ),
      putAttribute: db.prepare(
        `INSERT INTO attributes VALUES (?, 'client', ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (device_id, scope, key) DO UPDATE SET last_update_ts = excluded.last_update_ts,
           bool_v = excluded.bool_v, long_v = excluded.long_v, dbl_v = excluded.dbl_v,
           str_v = excluded.str_v, json_v = excluded.json_v`,
      ),
      reply: db.prepare(
        `UPDATE commands SET status = 'replied', response = ?, updated_time = ?
         WHERE id = ? AND device_id = ? AND status IN ('queued', 'delivered')`,
      ),
    };
  }

  /** Writes one call's items; throws on the first failure (the caller rolls back). */
  write(items: readonly IngestItem[], now: number): CallWrite {
    const out: CallWrite = { stored: 0, duplicates: 0, telemetryRows: 0, newDevices: new Map(), newKeys: new Map(), replies: [] };
    // Devices seen by this call and the integration that carried them last.
    const touched = new Map<number, string>();
    // Newest value per (device, key) of this call: one latest-value upsert each, not one per sample.
    const latest = new Map<string, Latest>();
    for (const item of items) {
      if (item.sourceId !== undefined) {
        const { changes } = this.s.markProcessed.run(item.integration, item.sourceId, now);
        if (changes === 0) {
          out.duplicates++;
          continue;
        }
      }
      for (const record of item.records) {
        const deviceId = this.device(record, item.integration, now, out);
        touched.set(deviceId, item.integration);
        this.writeRecord(deviceId, record, now, out, latest);
      }
      out.stored++;
    }
    for (const l of latest.values()) this.s.putLatest.run(l.deviceId, l.keyId, l.ts, ...l.columns);
    for (const [deviceId, integration] of touched) this.s.touchDevice.run(now, integration, deviceId);
    return out;
  }

  /** Caches the ids a committed call created. */
  committed(write: CallWrite): void {
    if (this.deviceIds.size + write.newDevices.size > MAX_CACHED) this.deviceIds.clear();
    if (this.keyIds.size + write.newKeys.size > MAX_CACHED) this.keyIds.clear();
    for (const [name, id] of write.newDevices) this.deviceIds.set(name, id);
    for (const [key, id] of write.newKeys) this.keyIds.set(key, id);
  }

  private writeRecord(deviceId: number, record: DeviceRecord, now: number, out: CallWrite, latest: Map<string, Latest>): void {
    for (const sample of record.telemetry) {
      for (const [key, value] of Object.entries(sample.values)) {
        const keyId = this.key(key, out);
        const c = columns(encodeValue(value));
        this.s.putTelemetry.run(deviceId, keyId, sample.ts, ...c);
        out.telemetryRows++;
        const pair = `${deviceId}:${keyId}`;
        const known = latest.get(pair);
        if (known === undefined || sample.ts >= known.ts) latest.set(pair, { deviceId, keyId, ts: sample.ts, columns: c });
      }
    }
    for (const [key, value] of Object.entries(record.attributes)) {
      this.s.putAttribute.run(deviceId, key, now, ...columns(encodeValue(value)));
    }
    for (const reply of record.rpcReplies ?? []) {
      const { changes } = this.s.reply.run(JSON.stringify(reply.response ?? null), now, reply.requestId, deviceId);
      if (changes > 0) out.replies.push(reply);
    }
  }

  private device(record: DeviceRecord, integration: string, now: number, out: CallWrite): number {
    const name = record.deviceName;
    const known = this.deviceIds.get(name) ?? out.newDevices.get(name);
    if (known !== undefined) return known;
    const row = this.s.findDevice.get(name) as { id: number } | undefined;
    if (row !== undefined) {
      out.newDevices.set(name, row.id);
      return row.id;
    }
    // Type, customer and group apply only when the entity is created, as in ThingsBoard.
    const { lastInsertRowid } = this.s.insertDevice.run(
      name,
      record.entityType ?? 'DEVICE',
      record.deviceType,
      record.customerName ?? null,
      record.groupName ?? null,
      integration,
      now,
      now,
    );
    const id = Number(lastInsertRowid);
    out.newDevices.set(name, id);
    return id;
  }

  private key(key: string, out: CallWrite): number {
    const known = this.keyIds.get(key) ?? out.newKeys.get(key);
    if (known !== undefined) return known;
    const row = this.s.findKey.get(key) as { id: number } | undefined;
    if (row !== undefined) {
      out.newKeys.set(key, row.id);
      return row.id;
    }
    const id = Number(this.s.insertKey.run(key).lastInsertRowid);
    out.newKeys.set(key, id);
    return id;
  }
}
