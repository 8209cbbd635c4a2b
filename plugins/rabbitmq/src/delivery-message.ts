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

/**
 * A delivery as the pipeline takes it: the body as payload; metadata with `exchange`,
 * `routingKey`, `queue`, `redelivered`, `deliveryCount`, the message properties that are set
 * (`contentType`, `messageId`, `timestamp` in epoch ms, `correlationId`, `replyTo`, …) and every
 * header under its own name (stringified), except that headers never replace those.
 */
export function toRawMessage(d: Delivery, receivedAt: number, policy: SourceIdPolicy): RawMessage {
  const metadata: Metadata = {};
  for (const [name, value] of Object.entries(d.properties.headers ?? {})) {
    const text = headerText(value);
    if (text !== undefined) metadata[name] = text;
  }
  const p = d.properties;
  const set = (key: string, value: string | number | undefined) => {
    if (value !== undefined && value !== null && value !== '') metadata[key] = String(value);
    else delete metadata[key];
  };
  set('contentType', p.contentType);
  set('contentEncoding', p.contentEncoding);
  set('messageId', p.messageId);
  set('correlationId', p.correlationId);
  set('replyTo', p.replyTo);
  set('type', p.type);
  set('appId', p.appId);
  set('userId', p.userId);
  set('expiration', p.expiration);
  set('priority', p.priority);
  // AMQP timestamps are seconds; the converter gets epoch ms like every other connector's.
  set('timestamp', p.timestamp === undefined ? undefined : p.timestamp * 1000);
  set('streamOffset', streamOffset(d));
  metadata.exchange = d.exchange;
  metadata.routingKey = d.routingKey;
  metadata.queue = d.queue;
  metadata.redelivered = String(d.redelivered);
  metadata.deliveryCount = String(deliveryCount(d));
  const sourceId = deliverySourceId(d, policy);
  return { payload: d.body, metadata, ...(sourceId === undefined ? {} : { sourceId }), receivedAt };
}

function headerText(value: TableValue): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object') return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  return String(value);
}
