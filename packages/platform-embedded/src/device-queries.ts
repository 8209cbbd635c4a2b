import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { deviceNotFound, invalidArgument } from './errors.js';
import type { Device, DevicePage, ListDevicesQuery } from './types.js';

interface DeviceRow {
  id: number;
  name: string;
  entity_type: 'DEVICE' | 'ASSET';
  type: string;
  customer: string | null;
  group_name: string | null;
  integration: string | null;
  created_time: number;
  last_seen: number;
}

/** A device row with its internal id, for the other queries. */
export interface DeviceRef {
  id: number;
  device: Device;
}

function toDevice(r: DeviceRow): Device {
  return {
    name: r.name,
    entityType: r.entity_type,
    type: r.type,
    customerName: r.customer,
    groupName: r.group_name,
    integration: r.integration,
    createdTime: r.created_time,
    lastSeen: r.last_seen,
  };
}

/** Escapes LIKE wildcards so a search for `a_b` matches only that text. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function checkInteger(name: string, value: number | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(`${name} must be an integer from ${min} to ${max}`, { [name]: value });
  }
  return value;
}

/** Reads devices; every method is one indexed query. */
export class DeviceQueries {
  private readonly byName: StatementSync;
  private readonly page: StatementSync;
  private readonly count: StatementSync;

  constructor(db: DatabaseSync) {
    this.byName = db.prepare('SELECT * FROM devices WHERE name = ?');
    const where = `WHERE (:search IS NULL OR name LIKE :search ESCAPE '\\') AND (:type IS NULL OR type = :type)`;
    this.page = db.prepare(`SELECT * FROM devices ${where} ORDER BY name LIMIT :limit OFFSET :offset`);
    this.count = db.prepare(`SELECT count(*) AS n FROM devices ${where}`);
  }

  /** The device, or `undefined`. */
  find(name: string): DeviceRef | undefined {
    const row = this.byName.get(name) as DeviceRow | undefined;
    return row === undefined ? undefined : { id: row.id, device: toDevice(row) };
  }

  /** The device, or a `DEVICE_NOT_FOUND` error. */
  require(name: string): DeviceRef {
    const ref = this.find(name);
    if (ref === undefined) throw deviceNotFound(name);
    return ref;
  }

  list(query: ListDevicesQuery = {}): DevicePage {
    const limit = checkInteger('limit', query.limit, 1, 1000, 100);
    const offset = checkInteger('offset', query.offset, 0, Number.MAX_SAFE_INTEGER, 0);
    const filter = {
      search: query.search ? likePattern(query.search) : null,
      type: query.type ? query.type : null,
    };
    const rows = this.page.all({ ...filter, limit, offset }) as unknown as DeviceRow[];
    const { n: total } = this.count.get(filter) as { n: number };
    return { data: rows.map(toDevice), total, hasNext: offset + rows.length < total };
  }
}
