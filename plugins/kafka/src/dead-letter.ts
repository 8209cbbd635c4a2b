import type { ConverterFailure } from '@tbi/plugin-api';
import type { ConsumedRecord, ProducerRecord } from './driver/types.js';

/** Header names Kafka Connect uses (`errors.deadletterqueue.context.headers.enable=true`). */
export const DLQ_HEADERS = {
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
  connector: '__connect.errors.connector.name',
  stage: '__connect.errors.stage',
  className: '__connect.errors.exception.class.name',
  message: '__connect.errors.exception.message',
  path: '__tbi.errors.path',
} as const;

/**
 * The record to produce to the dead-letter topic for a record whose conversion failed: the
 * original key, value and headers, plus the Kafka Connect error headers (where it came from,
 * which integration, the failure kind and message).
 */
export function deadLetterRecord(dlqTopic: string, record: ConsumedRecord, error: ConverterFailure, integration: string): ProducerRecord {
  const text = (v: string) => Buffer.from(v, 'utf8');
  const headers: Array<[string, Buffer]> = [
    ...record.headers,
    [DLQ_HEADERS.topic, text(record.topic)],
    [DLQ_HEADERS.partition, text(String(record.partition))],
    [DLQ_HEADERS.offset, text(String(record.offset))],
    [DLQ_HEADERS.connector, text(integration)],
    [DLQ_HEADERS.stage, text('VALUE_CONVERTER')],
    [DLQ_HEADERS.className, text(`tbi.ConverterError.${error.kind}`)],
    [DLQ_HEADERS.message, text(error.message)],
  ];
  if (error.path !== undefined) headers.push([DLQ_HEADERS.path, text(error.path)]);
  return { topic: dlqTopic, ...(record.key ? { key: record.key } : {}), value: record.value ?? Buffer.alloc(0), headers };
}
