import type { Metadata, RawMessage } from '@tbi/plugin-api';
import type { ReceivedMessage } from './driver/types.js';

/** Metadata keys the connector sets; a message property of the same name does not replace them. */
export const RESERVED_METADATA = ['topic', 'messageId', 'key', 'publishTime', 'eventTime', 'redeliveryCount'] as const;

/**
 * A Pulsar message as the pipeline takes it: the payload; metadata `topic`, `messageId`, `key`,
 * `publishTime` and `eventTime` (epoch ms), `redeliveryCount`, and every property under its own
 * name. `sourceId` is `topic@messageId`: the id names the message's place in the topic's ledger,
 * the same on every redelivery, so a redelivered message is stored once.
 */
export function toRawMessage(m: ReceivedMessage, receivedAt: number): RawMessage {
  const metadata: Metadata = { ...m.properties };
  for (const key of RESERVED_METADATA) delete metadata[key];
  metadata.topic = m.topic;
  metadata.messageId = m.messageId;
  metadata.redeliveryCount = String(m.redeliveryCount);
  if (m.key !== undefined) metadata.key = m.key;
  if (m.publishTime !== undefined) metadata.publishTime = String(m.publishTime);
  if (m.eventTime !== undefined) metadata.eventTime = String(m.eventTime);
  return { payload: m.payload, metadata, sourceId: `${m.topic}@${m.messageId}`, receivedAt };
}
