import type { IngestItem } from '@tbi/plugin-api';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks the shape the store relies on (the sandbox has normalised the records already); returns
 * the first problem with its path, e.g. `items[0].records[1].telemetry[0].ts: expected a finite number`.
 */
export function findInvalidItem(items: readonly IngestItem[]): string | undefined {
  if (!Array.isArray(items)) return 'items: expected an array';
  for (const [i, item] of items.entries()) {
    const at = `items[${i}]`;
    if (!isObject(item)) return `${at}: expected an object`;
    if (typeof item.integration !== 'string' || item.integration === '') return `${at}.integration: expected a name`;
    if (item.sourceId !== undefined && typeof item.sourceId !== 'string') return `${at}.sourceId: expected a string`;
    if (!Array.isArray(item.records)) return `${at}.records: expected an array`;
    for (const [j, r] of item.records.entries()) {
      const rat = `${at}.records[${j}]`;
      if (!isObject(r)) return `${rat}: expected an object`;
      if (typeof r.deviceName !== 'string' || r.deviceName === '') return `${rat}.deviceName: expected a non-empty string`;
      if (typeof r.deviceType !== 'string') return `${rat}.deviceType: expected a string`;
      if (r.entityType !== undefined && r.entityType !== 'DEVICE' && r.entityType !== 'ASSET') {
        return `${rat}.entityType: expected DEVICE or ASSET`;
      }
      if (!isObject(r.attributes)) return `${rat}.attributes: expected an object`;
      if (!Array.isArray(r.telemetry)) return `${rat}.telemetry: expected an array of {ts, values}`;
      for (const [k, sample] of r.telemetry.entries()) {
        if (!isObject(sample)) return `${rat}.telemetry[${k}]: expected {ts, values}`;
        if (typeof sample.ts !== 'number' || !Number.isSafeInteger(sample.ts)) {
          return `${rat}.telemetry[${k}].ts: expected an integer (epoch ms)`;
        }
        if (!isObject(sample.values)) return `${rat}.telemetry[${k}].values: expected an object`;
      }
      if (r.rpcReplies !== undefined) {
        if (!Array.isArray(r.rpcReplies)) return `${rat}.rpcReplies: expected an array`;
        for (const [k, reply] of r.rpcReplies.entries()) {
          if (!isObject(reply) || typeof reply.requestId !== 'string') return `${rat}.rpcReplies[${k}].requestId: expected a string`;
        }
      }
    }
  }
  return undefined;
}
