import type { DownlinkRequest, Metadata, StoredRecordEntry } from '@tbi/plugin-api';

/** Which stored records an export publishes. No field: everything. */
export interface ExportFilter {
  /** Only devices (and assets) of these types. */
  deviceTypes?: readonly string[];
  /** Only these telemetry and attribute keys (a sample or attribute set left empty is not sent). */
  keys?: readonly string[];
  /** Which kinds of event (default all three). */
  events?: ReadonlyArray<'telemetry' | 'attributes' | 'devices'>;
}

/** One message an export sends: the encoder's input and the device it belongs to. */
export interface ExportRequest {
  seq: number;
  deviceName: string;
  deviceType: string;
  request: DownlinkRequest;
}

function pick<T>(values: Record<string, T>, keys: ReadonlySet<string> | undefined): Record<string, T> {
  if (!keys) return values;
  return Object.fromEntries(Object.entries(values).filter(([k]) => keys.has(k)));
}

/**
 * Turns one log entry into the encoder calls ThingsBoard's rule engine would make for it: an
 * `ENTITY_CREATED` when the entry created the device, a `POST_ATTRIBUTES_REQUEST` with its
 * attributes, and a `POST_TELEMETRY_REQUEST` per telemetry sample (`msg` the values, `ts` in the
 * metadata, as ThingsBoard's message of that type has it). The metadata also carries `seq` (the
 * log position: consumers can de-duplicate and check order with it) and the source integration.
 */
export function exportRequests(entry: StoredRecordEntry, filter: ExportFilter, integrationMetadata: Metadata): ExportRequest[] {
  const { record } = entry;
  if (filter.deviceTypes && !filter.deviceTypes.includes(record.deviceType)) return [];
  const events = new Set(filter.events ?? ['telemetry', 'attributes', 'devices']);
  const keys = filter.keys ? new Set(filter.keys) : undefined;
  const base: Metadata = {
    deviceName: record.deviceName,
    deviceType: record.deviceType,
    entityType: record.entityType,
    integration: entry.integration,
    seq: String(entry.seq),
    storedAt: String(entry.storedAt),
  };
  const out: ExportRequest[] = [];
  const add = (msgType: string, msg: unknown, metadata: Metadata) =>
    out.push({ seq: entry.seq, deviceName: record.deviceName, deviceType: record.deviceType, request: { msg, metadata, msgType, integrationMetadata } });
  if (entry.created && events.has('devices')) {
    add(
      'ENTITY_CREATED',
      {
        name: record.deviceName,
        type: record.deviceType,
        entityType: record.entityType,
        customerName: record.customerName ?? null,
        groupName: record.groupName ?? null,
      },
      base,
    );
  }
  if (events.has('attributes')) {
    const attributes = pick(record.attributes, keys);
    if (Object.keys(attributes).length > 0) add('POST_ATTRIBUTES_REQUEST', attributes, { ...base, scope: 'CLIENT_SCOPE' });
  }
  if (events.has('telemetry')) {
    for (const sample of record.telemetry) {
      const values = pick(sample.values, keys);
      if (Object.keys(values).length > 0) add('POST_TELEMETRY_REQUEST', values, { ...base, ts: String(sample.ts) });
    }
  }
  return out;
}
