import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { CommandRecord, CommandStatus } from './types.js';

/** A command about to be stored. */
export interface NewCommand {
  id: string;
  deviceId: number;
  msgType: string;
  msg: unknown;
  metadata: Record<string, string>;
  oneway: boolean;
  expiresAt: number | null;
}

interface CommandRow {
  id: string;
  device_name: string;
  msg_type: string;
  msg: string;
  metadata: string;
  oneway: number;
  status: CommandStatus;
  created_time: number;
  updated_time: number;
  expires_at: number | null;
  error: string | null;
  response: string | null;
}

const SELECT = `SELECT c.*, d.name AS device_name FROM commands c JOIN devices d ON d.id = c.device_id`;

function toRecord(r: CommandRow): CommandRecord {
  return {
    id: r.id,
    deviceName: r.device_name,
    msgType: r.msg_type,
    msg: JSON.parse(r.msg) as unknown,
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    oneway: r.oneway !== 0,
    status: r.status,
    createdTime: r.created_time,
    updatedTime: r.updated_time,
    expiresAt: r.expires_at,
    error: r.error,
    response: r.response === null ? undefined : (JSON.parse(r.response) as unknown),
  };
}

/**
 * The `commands` table: every RPC and attribute update for a device with its delivery status.
 * `queued` → `delivered` (the host handed it to the connector) → `replied` (two-way); or
 * `failed` (could not be delivered) or `expired` (no reply, or not delivered, in time).
 */
export class CommandStore {
  private readonly s: Record<'insert' | 'get' | 'list' | 'listByStatus' | 'delivered' | 'failed' | 'expire' | 'expireDue' | 'queued', StatementSync>;

  constructor(db: DatabaseSync) {
    this.s = {
      insert: db.prepare(
        `INSERT INTO commands (id, device_id, msg_type, msg, metadata, oneway, status, created_time, updated_time, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
      ),
      get: db.prepare(`${SELECT} WHERE c.id = ?`),
      list: db.prepare(`${SELECT} WHERE c.device_id = ? ORDER BY c.created_time DESC, c.rowid DESC LIMIT ?`),
      listByStatus: db.prepare(`${SELECT} WHERE c.device_id = ? AND c.status = ? ORDER BY c.created_time DESC, c.rowid DESC LIMIT ?`),
      delivered: db.prepare(`UPDATE commands SET status = 'delivered', updated_time = ? WHERE id = ? AND status = 'queued'`),
      failed: db.prepare(`UPDATE commands SET status = 'failed', error = ?, updated_time = ? WHERE id = ? AND status = 'queued'`),
      expire: db.prepare(`UPDATE commands SET status = 'expired', updated_time = ? WHERE id = ? AND status IN ('queued', 'delivered')`),
      expireDue: db.prepare(
        `UPDATE commands SET status = 'expired', updated_time = ?
         WHERE status IN ('queued', 'delivered') AND expires_at IS NOT NULL AND expires_at <= ?`,
      ),
      queued: db.prepare(`${SELECT} WHERE c.status = 'queued' AND (c.expires_at IS NULL OR c.expires_at > ?) ORDER BY c.created_time, c.rowid`),
    };
  }

  /** Inside the caller's transaction. */
  insert(c: NewCommand, now: number): void {
    this.s.insert.run(c.id, c.deviceId, c.msgType, JSON.stringify(c.msg ?? null), JSON.stringify(c.metadata), c.oneway ? 1 : 0, now, now, c.expiresAt);
  }

  get(id: string): CommandRecord | undefined {
    const row = this.s.get.get(id) as CommandRow | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  list(deviceId: number, limit: number, status?: CommandStatus): CommandRecord[] {
    const rows = status === undefined ? this.s.list.all(deviceId, limit) : this.s.listByStatus.all(deviceId, status, limit);
    return (rows as unknown as CommandRow[]).map(toRecord);
  }

  /** Commands still waiting for delivery, oldest first. */
  queued(now: number): CommandRecord[] {
    return (this.s.queued.all(now) as unknown as CommandRow[]).map(toRecord);
  }

  /** Returns whether the status changed. */
  markDelivered(id: string, now: number): boolean {
    return this.s.delivered.run(now, id).changes > 0;
  }

  markFailed(id: string, error: string, now: number): boolean {
    return this.s.failed.run(error, now, id).changes > 0;
  }

  markExpired(id: string, now: number): boolean {
    return this.s.expire.run(now, id).changes > 0;
  }

  /** Expires every undelivered or unanswered command past its `expires_at`; returns how many. */
  expireDue(now: number): number {
    return Number(this.s.expireDue.run(now, now).changes);
  }
}
