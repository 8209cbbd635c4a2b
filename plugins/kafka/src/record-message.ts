import type { Metadata, RawMessage } from '@tbi/plugin-api';
import type { ConsumedRecord } from './driver/types.js';

/** Metadata keys the connector sets itself; a Kafka header of the same name does not replace them. */
export const RESERVED_METADATA = ['topic', 'partition', 'offset', 'key', 'timestamp'] as const;

/** Where a record sits in Kafka, stable across redeliveries: `topic/partition/offset`. */
export function recordSourceId(record: Pick<ConsumedRecord, 'topic' | 'partition' | 'offset'>): string {
  return `${record.topic}/${record.partition}/${record.offset}`;
}

/**
 * A consumed record as the pipeline takes it: the value as payload, and metadata `topic`,
 * `partition`, `offset`, `key` (UTF-8, empty when null), `timestamp` (epoch ms) and every header
 * under its own name (UTF-8), except that headers never replace those five.
 */
export function toRawMessage(record: ConsumedRecord, receivedAt: number): RawMessage {
  const metadata: Metadata = {};
  for (const [name, value] of record.headers) metadata[name] = value.toString('utf8');
  metadata.topic = record.topic;
  metadata.partition = String(record.partition);
  metadata.offset = String(record.offset);
  metadata.key = record.key?.toString('utf8') ?? '';
  metadata.timestamp = String(record.timestamp);
  return {
    payload: record.value ?? new Uint8Array(0),
    metadata,
    sourceId: recordSourceId(record),
    receivedAt,
  };
}
