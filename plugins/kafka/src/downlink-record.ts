import { DeliveryError, type OutboundDownlink } from '@tbi/plugin-api';
import type { ProducerRecord } from './driver/types.js';

/** Downlink metadata keys that steer the record instead of becoming headers. */
const STEERING = new Set(['topic', 'key']);

/**
 * The record for a downlink: topic from the converter's `metadata.topic`, else the configured
 * one; key from `metadata.key` (e.g. the device name, so a device's commands stay in order on
 * one partition); every other metadata entry as a header; the encoded data as the value.
 */
export function downlinkRecord(downlink: OutboundDownlink, defaultTopic: string | undefined): ProducerRecord {
  const meta = downlink.encoded.metadata;
  const topic = meta.topic || defaultTopic;
  if (!topic) {
    throw new DeliveryError('no topic for the downlink: set downlink.topic or metadata.topic in the downlink converter', {
      retryable: false,
      context: { commandId: downlink.commandId, deviceName: downlink.deviceName },
    });
  }
  const headers: Array<[string, Buffer]> = Object.entries(meta)
    .filter(([name]) => !STEERING.has(name))
    .map(([name, value]) => [name, Buffer.from(value, 'utf8')]);
  return {
    topic,
    ...(meta.key ? { key: Buffer.from(meta.key, 'utf8') } : {}),
    value: Buffer.from(downlink.payload),
    headers,
  };
}
