import type { Metadata, RawMessage } from '@tbi/plugin-api';
import type { Delivery, TableValue } from './driver/types.js';

/** Metadata keys the connector sets itself; a message header of the same name does not replace them. */
export const RESERVED_METADATA = [
  'exchange',
  'routingKey',
  'queue',
  'redelivered',
  'deliveryCount',
  'contentType',
  'contentEncoding',
  'messageId',
  'correlationId',
  'replyTo',
  'timestamp',
  'type',
  'appId',
  'userId',
  'expiration',
  'priority',
  'streamOffset',
] as const;

/** How to identify a delivery stably across redeliveries, when the source allows it. */
export interface SourceIdPolicy {
  /** The queue is a stream: its `x-stream-offset` is the position. */
  stream: boolean;
  /** Publishers set a unique `message-id`. */
  messageIdIsUnique: boolean;
}

/**
 * Times the broker delivered this message, counting this one: quorum queues count in
 * `x-delivery-count` (redeliveries before this one); elsewhere only `redelivered` is known (≥ 2).
 */
export function deliveryCount(d: Delivery): number {
  const header = d.properties.headers?.['x-delivery-count'];
  const n = typeof header === 'number' ? header : typeof header === 'bigint' ? Number(header) : undefined;
  if (n !== undefined) return n + 1;
  return d.redelivered ? 2 : 1;
}

/** The stream offset of a delivery from a stream queue, if any. */
export function streamOffset(d: Delivery): number | undefined {
  const v = d.properties.headers?.['x-stream-offset'];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}

/** Where a delivery sits, stable across redeliveries: `queue@offset` (stream) or `queue#message-id`. */
export function deliverySourceId(d: Delivery, policy: SourceIdPolicy): string | undefined {
  if (policy.stream) {
    const offset = streamOffset(d);
    if (offset !== undefined) return `${d.queue}@${offset}`;
  }
  if (policy.messageIdIsUnique && d.properties.messageId) return `${d.queue}#${d.properties.messageId}`;
  return undefined;
}

const RESERVED = new Set<string>(RESERVED_METADATA);

/** A property worth passing on: set and not empty. */
const given = (v: string | number | undefined): v is string | number => v !== undefined && v !== null && v !== '';

/**
 * A delivery as the pipeline takes it: the body as payload; metadata with `exchange`,
 * `routingKey`, `queue`, `redelivered`, `deliveryCount`, the message properties that are set
 * (`contentType`, `messageId`, `timestamp` in epoch ms, `correlationId`, `replyTo`, …) and every
 * header under its own name (stringified), except that headers never replace those (a header
 * named like one of `RESERVED_METADATA` is left out even when the property is not set).
 */
export function toRawMessage(d: Delivery, receivedAt: number, policy: SourceIdPolicy): RawMessage {
  // Runs for every delivery: one object built once, no `delete` (which turns it into a slow
  // dictionary) and no closures.
  const metadata: Metadata = {};
  const p = d.properties;
  const headers = p.headers;
  if (headers !== undefined) {
    for (const name of Object.keys(headers)) {
      if (RESERVED.has(name)) continue;
      const text = headerText(headers[name]);
      if (text !== undefined) metadata[name] = text;
    }
  }
  if (given(p.contentType)) metadata.contentType = String(p.contentType);
  if (given(p.contentEncoding)) metadata.contentEncoding = String(p.contentEncoding);
  if (given(p.messageId)) metadata.messageId = String(p.messageId);
  if (given(p.correlationId)) metadata.correlationId = String(p.correlationId);
  if (given(p.replyTo)) metadata.replyTo = String(p.replyTo);
  if (given(p.type)) metadata.type = String(p.type);
  if (given(p.appId)) metadata.appId = String(p.appId);
  if (given(p.userId)) metadata.userId = String(p.userId);
  if (given(p.expiration)) metadata.expiration = String(p.expiration);
  if (given(p.priority)) metadata.priority = String(p.priority);
  // AMQP timestamps are seconds; the converter gets epoch ms like every other connector's.
  if (given(p.timestamp)) metadata.timestamp = String(p.timestamp * 1000);
  const offset = streamOffset(d);
  if (offset !== undefined) metadata.streamOffset = String(offset);
  metadata.exchange = d.exchange;
  metadata.routingKey = d.routingKey;
  metadata.queue = d.queue;
  metadata.redelivered = d.redelivered ? 'true' : 'false';
  metadata.deliveryCount = String(deliveryCount(d));
  const message: RawMessage = { payload: d.body, metadata, receivedAt };
  const sourceId = deliverySourceId(d, policy);
  if (sourceId !== undefined) message.sourceId = sourceId;
  return message;
}

function headerText(value: TableValue): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object') return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  return String(value);
}
