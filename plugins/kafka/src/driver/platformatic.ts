// The driver on @platformatic/kafka (pure JS, maintained, tested by its authors against Kafka
// 3.5-4.2). Why this client: see README "Client choice".
import { Admin, Consumer, Producer, type MessagesStream } from '@platformatic/kafka';
import { Backoff } from '@tbi/plugin-api';
import { partitionKey, type CommitPoint, type TopicPartition } from '../offset-tracker.js';
import type { ClientConnectionOptions } from './client-options.js';
import { describeKafkaError, errorCodes, kafkaErrorNames } from './describe-error.js';
import { platformaticHistoryReader } from './platformatic-history.js';
import { consumedRecord, type KafkaMessage } from './platformatic-record.js';
import type { ConsumedRecord, ConsumerDriver, ConsumerEvents, ConsumerOptions, KafkaDriver, ProducerDriver, ProducerOptions, ProducerRecord } from './types.js';

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;
const ACKS = { all: -1, leader: 1, none: 0 } as const;

/** Creates the @platformatic/kafka driver for one integration. */
export function platformaticDriver(base: ClientConnectionOptions): KafkaDriver {
  let admin: Admin | undefined;
  // No retries of its own: the source retries with backoff and says why meanwhile, where the
  // client's retries (per broker, per operation) would hold `start` for many seconds.
  let probe: Admin | undefined;
  const getAdmin = () => (admin ??= new Admin({ ...base, clientId: `${base.clientId}-admin` }));
  const getProbe = () => (probe ??= new Admin({ ...base, clientId: `${base.clientId}-admin`, retries: 0 }));
  return {
    consumer: (options) => new PlatformaticConsumer(base, options),
    producer: (options) => platformaticProducer(base, options),
    historyReader: (options) => platformaticHistoryReader(base, options, getAdmin),
    async listTopics() {
      return getAdmin().listTopics({ includeInternals: false });
    },
    async missingTopics(topics) {
      if (topics.length === 0) return [];
      const existing = new Set(await getProbe().listTopics({ includeInternals: false }));
      return topics.filter((t) => !existing.has(t));
    },
    async createTopics(topics, options) {
      try {
        await getProbe().createTopics({ topics: [...topics], partitions: options.partitions, replicas: options.replicationFactor });
      } catch (error) {
        // Another member (or the broker's auto-creation) made it first: that is what was wanted.
        if (!kafkaErrorNames(error).has('TOPIC_ALREADY_EXISTS')) throw error;
      }
    },
    describeError: (error) => describeKafkaError(error, base.bootstrapBrokers),
    isTransient(error: unknown) {
      // A refused login arrives wrapped: MultipleErrors > NetworkError > (cause) AuthenticationError.
      const codes = errorCodes(error);
      if (codes.has('PLT_KFK_AUTHENTICATION')) return false;
      return codes.has('PLT_KFK_NETWORK') || codes.has('PLT_KFK_TIMEOUT');
    },
    async close() {
      await admin?.close();
      await probe?.close();
    },
  };
}

class PlatformaticConsumer implements ConsumerDriver {
  readonly #consumer: Consumer;
  readonly #options: ConsumerOptions;
  #topics: string[];
  #stream: Stream | undefined;
  #events: ConsumerEvents | undefined;
  #paused = false;
  #closing = false;
  /** Between re-creations of a failed stream: 0.5 s doubling up to 10 s, slightly jittered. */
  readonly #restarts = new Backoff({ initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0.2 });
  /** Aborted by `close`: ends a wait before re-creating the stream. */
  readonly #closed = new AbortController();
  #pending: ConsumedRecord[] = [];
  #flushScheduled = false;
  #assigned = new Set<string>();

  constructor(base: ClientConnectionOptions, options: ConsumerOptions) {
    this.#options = options;
    this.#topics = options.topics;
    this.#consumer = new Consumer({
      ...base,
      groupId: options.groupId,
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      maxBytes: options.maxBytes,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxWaitTime: options.maxWaitMs,
    });
    this.#consumer.on('consumer:group:join', (payload) => this.#onJoin(payload.generationId ?? 0, payload.assignments ?? []));
  }

  async start(events: ConsumerEvents): Promise<void> {
    this.#events = events;
    await this.#open();
  }

  async setTopics(topics: string[]): Promise<void> {
    this.#topics = topics;
    const old = this.#stream;
    this.#stream = undefined;
    await old?.close().catch(() => {});
    await this.#open();
  }

  pause(): void {
    this.#paused = true;
    this.#stream?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#stream?.resume();
  }

  async commit(points: readonly CommitPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.#consumer.commit({
      offsets: points.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset, leaderEpoch: p.leaderEpoch })),
    });
  }

  async endOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, bigint>> {
    const byTopic: Record<string, number[]> = {};
    for (const p of partitions) (byTopic[p.topic] ??= []).push(p.partition);
    const topics = Object.keys(byTopic);
    const result = new Map<string, bigint>();
    if (topics.length === 0) return result;
    const offsets = await this.#consumer.listOffsets({ topics, partitions: byTopic });
    for (const [topic, list] of offsets) {
      list.forEach((offset, partition) => {
        if (byTopic[topic]?.includes(partition)) result.set(partitionKey(topic, partition), offset);
      });
    }
    return result;
  }

  isActive(): boolean {
    return this.#consumer.isActive() && this.#stream !== undefined;
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#closed.abort();
    const stream = this.#stream;
    this.#stream = undefined;
    await stream?.close().catch(() => {});
    // force: a stream that died on its own must not keep the consumer from leaving the group.
    await this.#consumer.close(true).catch(() => {});
  }

  async #open(): Promise<void> {
    if (this.#closing) return;
    const stream = (await this.#consumer.consume({
      topics: this.#topics,
      mode: 'committed',
      fallbackMode: this.#options.fromBeginning ? 'earliest' : 'latest',
      autocommit: false,
    })) as Stream;
    if (this.#closing) {
      await stream.close().catch(() => {});
      return;
    }
    this.#stream = stream;
    this.#restarts.reset();
    stream.on('data', (message: KafkaMessage) => this.#onMessage(message));
    stream.on('error', (error: Error) => this.#onStreamEnd(stream, error));
    stream.on('close', () => this.#onStreamEnd(stream, new Error('the consumer stream closed')));
    if (this.#paused) stream.pause();
    // After a restart the membership is unchanged (no join event): tell the tracker again what
    // this member owns, since it forgot everything when the old stream died.
    if (this.#assigned.size > 0) {
      const partitions = [...this.#assigned].map((key) => {
        const at = key.lastIndexOf(':');
        return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
      });
      this.#events?.assigned(partitions, this.#consumer.generationId);
    }
  }

  #onMessage(m: KafkaMessage): void {
    this.#pending.push(consumedRecord(m, this.#consumer.generationId));
    // One fetch response is pushed synchronously record by record: hand it over as one batch.
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        const batch = this.#pending;
        this.#pending = [];
        if (batch.length > 0) this.#events?.records(batch);
      });
    }
  }

  #onJoin(generation: number, assignments: Array<{ topic: string; partitions: number[] }>): void {
    const partitions = assignments.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
    const keys = new Set(partitions.map((p) => partitionKey(p.topic, p.partition)));
    // A partition that comes (back) to this member must be read from the group's committed offset,
    // not from where this stream last stood: another member may have owned it in between, and
    // records fetched before are dropped as stale by the offset tracker.
    for (const key of keys) if (!this.#assigned.has(key)) this.#stream?.offsetsToFetch.delete(key);
    this.#assigned = keys;
    this.#events?.assigned(partitions, generation);
  }

  #onStreamEnd(stream: Stream, error: Error): void {
    if (this.#closing || this.#stream !== stream) return;
    this.#stream = undefined;
    this.#pending = [];
    this.#events?.restarted(error);
    void stream.close().catch(() => {});
    const retry = async (): Promise<void> => {
      try {
        await this.#restarts.wait(this.#closed.signal);
      } catch {
        return; // closed while waiting
      }
      if (this.#closing) return;
      try {
        await this.#open();
      } catch {
        await retry();
      }
    };
    void retry();
  }
}

function platformaticProducer(base: ClientConnectionOptions, options: ProducerOptions): ProducerDriver {
  const producer = new Producer({
    ...base,
    clientId: `${base.clientId}-producer`,
    idempotent: options.idempotent,
    acks: ACKS[options.acks],
    compression: options.compression,
    autocreateTopics: options.autoCreateTopics,
  });
  return {
    async send(records: readonly ProducerRecord[]) {
      if (records.length === 0) return;
      await producer.send({
        messages: records.map((r) => ({
          topic: r.topic,
          key: r.key,
          value: r.value,
          headers: new Map((r.headers ?? []).map(([k, v]) => [Buffer.from(k, 'utf8'), v])),
        })),
      });
    },
    async close() {
      await producer.close(true);
    },
  };
}
