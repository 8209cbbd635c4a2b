import { randomBytes } from 'node:crypto';
import { PluginError, ShutdownError, type IntegrationContext, type RawMessage, type ReplayBatch, type ReplayRequest, type ReplaySource } from '@tbi/plugin-api';
import type { KafkaConfig, UplinkConfig } from './config.js';
import type { HistoryReader, KafkaDriver, PartitionOffset } from './driver/types.js';
import { partitionKey } from './offset-tracker.js';
import { toRawMessage } from './record-message.js';
import {
  describePosition,
  formatCheckpoint,
  outsideTime,
  parseCheckpoint,
  planRange,
  progress,
  replayBound,
  type Bound,
  type PartitionOffsets,
  type ReplayCheckpoint,
} from './replay-range.js';
import { resolveTopics } from './topics.js';

/**
 * `Integration.replay` for Kafka: re-reads the integration's topics from a time (ListOffsets by
 * timestamp, per partition) or from offsets, up to the end as it was when the replay first
 * started. A reader of its own in a temporary group that commits nothing, so the live group's
 * offsets stay where they are. Messages are the live path's (`toRawMessage`), same `sourceId`.
 */
export function kafkaReplay(ctx: IntegrationContext<KafkaConfig>, driver: KafkaDriver): ReplaySource {
  return (request) => readHistory(ctx, driver, request);
}

async function* readHistory(ctx: IntegrationContext<KafkaConfig>, driver: KafkaDriver, request: ReplayRequest): AsyncGenerator<ReplayBatch> {
  const uplink = ctx.config.uplink;
  if (uplink === undefined)
    throw new PluginError('KAFKA_REPLAY_NO_UPLINK', `kafka integration "${ctx.name}" has no uplink: there are no topics to replay`, {
      context: { integration: ctx.name },
    });
  const { signal } = request;
  const maxBatch = Math.max(1, Math.floor(request.maxBatch));
  // Parse everything before connecting: a bad request fails at once with what was expected.
  const resumed = request.resume === undefined ? undefined : parseCheckpoint(request.resume);
  const from = replayBound(request.from, 'from');
  const to = request.to === undefined ? undefined : replayBound(request.to, 'to');
  if (signal.aborted) throw new ShutdownError('replay cancelled');

  const groupId = `${uplink.groupId ?? `tbi-${ctx.name}`}-replay-${randomBytes(4).toString('hex')}`;
  const reader = driver.historyReader({
    groupId,
    maxBytes: uplink.maxPollBytes,
    maxBytesPerPartition: uplink.maxPartitionFetchBytes,
    maxWaitMs: uplink.fetchMaxWaitMs,
    highWater: maxBatch * 4,
  });
  try {
    const cp = resumed ?? (await plan(reader, uplink, driver, from, to));
    ctx.logger.info({ groupId, position: describePosition(cp), fromMs: cp.fromMs, toMs: cp.toMs }, 'kafka replay starting');
    const open = new Map(cp.partitions.filter((p) => p.next < p.end).map((p) => [partitionKey(p.topic, p.partition), p]));
    if (open.size === 0) return;
    const topics = [...new Set(cp.partitions.map((p) => p.topic))];
    // The client fetches every partition of a topic it reads: the finished ones from their end.
    await reader.start(
      topics,
      cp.partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.next })),
    );
    const total = Number(progress(cp).total);
    const outside = outsideTime(cp);
    while (open.size > 0) {
      const records = await reader.read(maxBatch, signal);
      const receivedAt = ctx.clock.now();
      const messages: RawMessage[] = [];
      for (const record of records) {
        const key = partitionKey(record.topic, record.partition);
        const p = open.get(key);
        if (p === undefined || record.offset < p.next) continue; // past its end, or fetched twice
        p.next = record.offset + 1n;
        if (p.next >= p.end) open.delete(key);
        if (!outside(record.timestamp)) messages.push(toRawMessage(record, receivedAt));
      }
      if (messages.length > 0 || open.size === 0) yield { messages, checkpoint: formatCheckpoint(cp), position: describePosition(cp), total };
    }
  } finally {
    await reader.close();
  }
}

/** Asks the brokers where each partition starts, ends and (for times) where the bounds fall. */
async function plan(reader: HistoryReader, uplink: UplinkConfig, driver: KafkaDriver, from: Bound, to: Bound | undefined): Promise<ReplayCheckpoint> {
  const topics = await resolveTopics(uplink, driver);
  const byKey = (list: PartitionOffset[]) => new Map(list.map((p) => [partitionKey(p.topic, p.partition), p.offset]));
  const [earliest, latest] = await Promise.all([reader.offsets(topics, 'earliest'), reader.offsets(topics, 'latest').then(byKey)]);
  const fromTime = 'time' in from ? byKey(await reader.offsets(topics, from)) : undefined;
  const toTime = to !== undefined && 'time' in to ? byKey(await reader.offsets(topics, to)) : undefined;
  const partitions: PartitionOffsets[] = earliest.map((p) => {
    const key = partitionKey(p.topic, p.partition);
    const offsets: PartitionOffsets = { topic: p.topic, partition: p.partition, earliest: p.offset, latest: latest.get(key) ?? p.offset };
    if (fromTime !== undefined) offsets.fromTime = fromTime.get(key) ?? -1n;
    if (toTime !== undefined) offsets.toTime = toTime.get(key) ?? -1n;
    return offsets;
  });
  return planRange(partitions, from, to);
}
