import type { Message } from '@platformatic/kafka';
import type { ConsumedRecord } from './types.js';

export type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** A fetched message as the plugin takes it; `generation` when its metadata does not say. */
export function consumedRecord(m: KafkaMessage, generation: number): ConsumedRecord {
  const consumerMeta = (m.metadata as { consumer?: { generationId?: number } }).consumer;
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    leaderEpoch: m.leaderEpoch,
    key: m.key ?? undefined,
    value: m.value ?? undefined,
    timestamp: m.timestamp,
    headers: m.headerEntries.map(([k, v]) => [k.toString('utf8'), v ?? Buffer.alloc(0)]),
    generation: consumerMeta?.generationId ?? generation,
  };
}
