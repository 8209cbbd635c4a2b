import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { DeviceRecord, IngestItem, RpcReply } from '@tbi/plugin-api';
import type { Columns, StagedLatest, StagedValue } from './staged-latest.js';
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
  /** Devices whose `last_seen` the call wrote, with the integration that carried them. */
  touched: Map<number, string>;
  /** The telemetry values staged, in order (for `telemetry_latest`, once committed). */
  values: StagedValue[];
}

// Bounded so that millions of devices cannot grow memory without limit; a miss costs one
// indexed SELECT.
const MAX_CACHED = 100_000;

/**
 * How stale a device's `last_seen` may be: a device seen again within this time through the same
 * integration is not touched again (an UPDATE per device per batch was a fifth of the ingest
 * cost). ThingsBoard, too, reports activity at intervals rather than per message.
 */
export const LAST_SEEN_RESOLUTION_MS = 1000;

interface Touch {
  at: number;
  integration: string;
}

function columns(c: TypedColumns): Columns {
  return [c.bool_v, c.long_v, c.dbl_v, c.str_v, c.json_v];
}

/**
 * Writes the items of one `ingest` call inside the caller's open transaction. The caches hold
 * only committed rows: a rolled-back call must not leave ids that no longer exist. Latest values
 * are not written here but by the next merge (`staged-latest.ts`).
 */
export class IngestWriter {
  private readonly deviceIds = new Map<string, number>();
  private readonly keyIds = new Map<string, number>();
  /** The committed `last_seen` of recently seen devices. */
  private readonly touches = new Map<number, Touch>();
  private readonly s: Record<
    'markProcessed' | 'findDevice' | 'insertDevice' | 'touchDevice' | 'findKey' | 'insertKey' | 'putTelemetry' | 'putAttribute' | 'reply' | 'logRecord',
    StatementSync
  >;

  constructor(
    db: DatabaseSync,
    private readonly latest: StagedLatest,
    /** Also write each stored record to `record_log` (exports read it). */
    private readonly logRecords = false,
  ) {
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
      putAttribute: db.prepare(
        `INSERT INTO attributes VALUES (?, 'client', ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (device_id, scope, key) DO UPDATE SET last_update_ts = excluded.last_update_ts,
           bool_v = excluded.bool_v, long_v = excluded.long_v, dbl_v = excluded.dbl_v,
           str_v = excluded.str_v, json_v = excluded.json_v`,
      ),
      logRecord: db.prepare('INSERT INTO record_log (stored_at, integration, created, record) VALUES (?, ?, ?, ?)'),
      reply: db.prepare(
        `UPDATE commands SET status = 'replied', response = ?, updated_time = ?
         WHERE id = ? AND device_id = ? AND status IN ('queued', 'delivered')`,
      ),
    };
  }

  /** Writes one call's items; throws on the first failure (the caller rolls back). */
  write(items: readonly IngestItem[], now: number): CallWrite {
    const out: CallWrite = {
      stored: 0,
      duplicates: 0,
      telemetryRows: 0,
      newDevices: new Map(),
      newKeys: new Map(),
      replies: [],
      touched: new Map(),
      values: [],
    };
    // Devices seen by this call and the integration that carried them last.
    const seen = new Map<number, string>();
    // Devices this call created whose log entry does not say so yet.
    const created = new Set<number>();
    for (const item of items) {
      if (item.sourceId !== undefined) {
        const { changes } = this.s.markProcessed.run(item.integration, item.sourceId, now);
        if (changes === 0) {
          out.duplicates++;
          continue;
        }
      }
      for (const record of item.records) {
        const deviceId = this.device(record, item.integration, now, out, created);
        seen.set(deviceId, item.integration);
        this.writeRecord(deviceId, record, now, out);
        if (this.logRecords) {
          const { rpcReplies: _, ...stored } = record;
          this.s.logRecord.run(now, item.integration, created.delete(deviceId) ? 1 : 0, JSON.stringify(stored));
        }
      }
      out.stored++;
    }
    for (const [deviceId, integration] of seen) {
      const last = this.touches.get(deviceId);
      if (last !== undefined && last.integration === integration && now >= last.at && now - last.at < LAST_SEEN_RESOLUTION_MS) continue;
      this.s.touchDevice.run(now, integration, deviceId);
      out.touched.set(deviceId, integration);
    }
    return out;
  }

  /** Caches the ids a committed call created and the `last_seen` it wrote (at `now`). */
  committed(write: CallWrite, now: number): void {
    if (this.deviceIds.size + write.newDevices.size > MAX_CACHED) this.deviceIds.clear();
    if (this.keyIds.size + write.newKeys.size > MAX_CACHED) this.keyIds.clear();
    if (this.touches.size + write.touched.size > MAX_CACHED) this.touches.clear();
    for (const [name, id] of write.newDevices) this.deviceIds.set(name, id);
    for (const [key, id] of write.newKeys) this.keyIds.set(key, id);
    for (const [deviceId, integration] of write.touched) this.touches.set(deviceId, { at: now, integration });
    this.latest.add(write.values);
  }

  private writeRecord(deviceId: number, record: DeviceRecord, now: number, out: CallWrite): void {
    for (const sample of record.telemetry) {
      for (const [key, value] of Object.entries(sample.values)) {
        const keyId = this.key(key, out);
        const c = columns(encodeValue(value));
        this.s.putTelemetry.run(deviceId, keyId, sample.ts, ...c);
        out.values.push({ deviceId, keyId, ts: sample.ts, columns: c });
        out.telemetryRows++;
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

  private device(record: DeviceRecord, integration: string, now: number, out: CallWrite, created: Set<number>): number {
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
    created.add(id);
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
