// A replay's reader on @platformatic/kafka. The client fetches only inside a group (its
// `consume` always joins one), so the reader joins a group of its own, reads in `manual` mode
// from the offsets it is given, never commits, and deletes the group when it closes: the live
// group's committed offsets are never touched.
import { Consumer, type Admin, type MessagesStream } from '@platformatic/kafka';
import { ShutdownError } from '@tbi/plugin-api';
import type { ClientConnectionOptions } from './client-options.js';
import { consumedRecord, type KafkaMessage } from './platformatic-record.js';
import type { ConsumedRecord, HistoryReader, HistoryReaderOptions, PartitionOffset } from './types.js';

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;
/** ListOffsets' special timestamps (Kafka protocol). */
const LATEST = -1n;
const EARLIEST = -2n;

export function platformaticHistoryReader(base: ClientConnectionOptions, options: HistoryReaderOptions, admin: () => Admin): HistoryReader {
  const consumer = new Consumer({
    ...base,
    clientId: `${base.clientId}-replay`,
    groupId: options.groupId,
    autocommit: false,
    maxBytes: options.maxBytes,
    maxBytesPerPartition: options.maxBytesPerPartition,
    maxWaitTime: options.maxWaitMs,
  });
  let stream: Stream | undefined;
  let buffer: ConsumedRecord[] = [];
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };

  return {
    async offsets(topics, at) {
      const timestamp = at === 'earliest' ? EARLIEST : at === 'latest' ? LATEST : BigInt(at.time);
      const listed = await consumer.listOffsets({ topics: [...topics], timestamp });
      const result: PartitionOffset[] = [];
      for (const [topic, offsets] of listed) for (const [partition, offset] of offsets.entries()) result.push({ topic, partition, offset });
      return result;
    },

    async start(topics, from) {
      const s = (await consumer.consume({
        topics: [...topics],
        mode: 'manual',
        offsets: from.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset })),
        autocommit: false,
      })) as Stream;
      stream = s;
      s.on('data', (m: KafkaMessage) => {
        buffer.push(consumedRecord(m, consumer.generationId));
        // Bounded memory: stop fetching while the host has not taken what is here.
        if (buffer.length >= options.highWater) s.pause();
        notify();
      });
      s.on('error', (error: Error) => {
        failed ??= error;
        notify();
      });
      s.on('close', () => {
        failed ??= new Error('the replay reader stream closed');
        notify();
      });
    },

    async read(max, signal) {
      const onAbort = () => notify();
      signal.addEventListener('abort', onAbort);
      try {
        if (signal.aborted) throw new ShutdownError('replay cancelled');
        while (buffer.length === 0) {
          if (failed !== undefined) throw failed;
          await new Promise<void>((resolve) => (wake = resolve));
          if (signal.aborted) throw new ShutdownError('replay cancelled');
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      const taken = buffer.length <= max ? buffer : buffer.slice(0, max);
      buffer = buffer.length <= max ? [] : buffer.slice(max);
      if (stream?.isPaused() && buffer.length < options.highWater / 2) stream.resume();
      return taken;
    },

    async close() {
      const s = stream;
      stream = undefined;
      await s?.close().catch(() => {});
      await consumer.close(true).catch(() => {});
      // The group has no offsets and no members now; deleting it keeps `kafka-consumer-groups
      // --list` free of one group per replay. Best effort: the broker drops it later anyway.
      await admin()
        .deleteGroups({ groups: [options.groupId] })
        .catch(() => {});
    },
  };
}
