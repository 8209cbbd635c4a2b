// Unit test of KafkaSource with a scripted driver: what is committed when, around rebalances,
// restarts and stalls. (The same behaviour against the real broker: test/broker.test.ts.)
import type { IntegrationContext, RawMessage, UplinkOutcome } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { kafkaConfigSchema, type KafkaConfig } from './config.js';
import type { ConsumedRecord, ConsumerDriver, ConsumerEvents, KafkaDriver, ProducerDriver, ProducerRecord } from './driver/types.js';
import type { CommitPoint } from './offset-tracker.js';
import { describeKafkaError } from './driver/describe-error.js';
import { KafkaSource } from './source.js';

class FakeConsumer implements ConsumerDriver {
  events!: ConsumerEvents;
  commits: CommitPoint[][] = [];
  paused = false;
  async start(events: ConsumerEvents) {
    this.events = events;
  }
  async setTopics() {}
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  async commit(points: readonly CommitPoint[]) {
    this.commits.push([...points]);
  }
  async endOffsets() {
    return new Map<string, bigint>();
  }
  isActive() {
    return true;
  }
  async close() {}
  /** Offsets committed last, per `topic:partition`. */
  committed(): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    for (const batch of this.commits) for (const p of batch) out[`${p.topic}:${p.partition}`] = p.offset;
    return out;
  }
}

function record(partition: number, offset: number, generation = 1, value = 'ok'): ConsumedRecord {
  return { topic: 't', partition, offset: BigInt(offset), leaderEpoch: 0, key: undefined, value: Buffer.from(value), timestamp: 0n, headers: [], generation };
}

function setup(uplinkInput: Record<string, unknown> = {}) {
  const consumer = new FakeConsumer();
  const produced: ProducerRecord[] = [];
  const producer: ProducerDriver = { send: async (r) => void produced.push(...r), close: async () => {} };
  const driver: KafkaDriver = {
    consumer: () => consumer,
    producer: () => producer,
    historyReader: () => {
      throw new Error('no history in these tests');
    },
    listTopics: async () => [],
    missingTopics: async () => [],
    createTopics: async () => {},
    describeError: (e) => describeKafkaError(e, ['h:1']),
    isTransient: () => false,
    close: async () => {},
  };
  const pending: Array<{ messages: readonly RawMessage[]; resolve: (o: UplinkOutcome[]) => void }> = [];
  const config = kafkaConfigSchema.parse({ bootstrapServers: 'h:1', uplink: { topics: ['t'], commitIntervalMs: 0, lagIntervalMs: 0, ...uplinkInput } });
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
  const metric = { inc() {}, set() {}, dec() {}, observe() {} };
  const ctx = {
    name: 'it',
    config,
    logger: silent,
    metrics: { counter: () => metric, gauge: () => metric, histogram: () => metric },
    clock: { now: () => 1 },
    signal: new AbortController().signal,
    uplink: { submit: (messages: readonly RawMessage[]) => new Promise<UplinkOutcome[]>((resolve) => pending.push({ messages, resolve })) },
  } as unknown as IntegrationContext<KafkaConfig>;
  const source = new KafkaSource(ctx, config.uplink!, driver, () => producer);
  /** Lets submits with these sourceIds' batch finish; outcome per message from `fail`. */
  const finish = async (index: number, fail: (m: RawMessage) => boolean = () => false) => {
    const p = pending[index]!;
    p.resolve(p.messages.map((m) => (fail(m) ? { status: 'failed', error: { kind: 'THREW', message: 'boom' } } : { status: 'stored', records: [] })));
    await tick();
  };
  return { source, consumer, pending, produced, finish };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('KafkaSource', () => {
  it('commits per partition only up to what is stored, in order', async () => {
    const { source, consumer, pending, finish } = setup({ maxPollRecords: 2 });
    await source.start();
    consumer.events.assigned([{ topic: 't', partition: 0 }], 1);
    consumer.events.records([record(0, 0), record(0, 1), record(0, 2), record(0, 3)]);
    await tick();
    expect(pending.map((p) => p.messages.map((m) => m.sourceId))).toEqual([
      ['t/0/0', 't/0/1'],
      ['t/0/2', 't/0/3'],
    ]);
    await finish(1);
    expect(consumer.commits).toEqual([]);
    await finish(0);
    expect(consumer.committed()).toEqual({ 't:0': 4n });
  });

  it('pauses beyond maxInFlightBatches and resumes when a batch finishes', async () => {
    const { source, consumer, pending, finish } = setup({ maxPollRecords: 1, maxInFlightBatches: 2 });
    await source.start();
    consumer.events.assigned([{ topic: 't', partition: 0 }], 1);
    consumer.events.records([record(0, 0), record(0, 1), record(0, 2)]);
    await tick();
    expect(pending).toHaveLength(2);
    expect(consumer.paused).toBe(true);
    await finish(0);
    expect(pending).toHaveLength(3);
    await finish(1);
    await finish(2);
    expect(consumer.paused).toBe(false);
    expect(consumer.committed()).toEqual({ 't:0': 3n });
  });

  it('on a rebalance commits what is stored, forgets revoked partitions and drops stale records', async () => {
    const { source, consumer, pending, finish } = setup();
    await source.start();
    consumer.events.assigned(
      [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 1 },
      ],
      1,
    );
    consumer.events.records([record(0, 0), record(1, 0)]);
    await tick();
    consumer.events.records([record(1, 1)]);
    await tick();
    await finish(0); // 0/0 and 1/0 stored
    // Partition 1 moves away while 1/1 is still in the pipeline.
    const before = consumer.commits.length;
    consumer.events.assigned(
      [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 2 },
      ],
      2,
    );
    await tick();
    await finish(1); // 1/1 stored late: not committed by this member any more
    expect(
      consumer.commits
        .slice(before)
        .flat()
        .some((p) => p.partition === 1 && p.offset > 1n),
    ).toBe(false);
    // A record of the new partition fetched under the old generation is dropped unseen.
    consumer.events.records([record(2, 7, 1)]);
    await tick();
    expect(pending).toHaveLength(2);
    consumer.events.records([record(2, 5, 2)]);
    await tick();
    expect(pending[2]!.messages.map((m) => m.sourceId)).toEqual(['t/2/5']);
  });

  it('after a stream restart, results of the old stream commit nothing', async () => {
    const { source, consumer, finish } = setup();
    await source.start();
    consumer.events.assigned([{ topic: 't', partition: 0 }], 1);
    consumer.events.records([record(0, 10)]);
    await tick();
    const refused = Object.assign(new Error('joinGroup failed 4 times. findGroupCoordinator failed 4 times.'), {
      code: 'PLT_KFK_MULTIPLE',
      errors: [
        Object.assign(new Error('Connection to h:1 failed.'), {
          code: 'PLT_KFK_NETWORK',
          cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        }),
      ],
    });
    consumer.events.restarted(refused);
    expect(source.health()).toEqual({ status: 'degraded', detail: 'consumer restarting: cannot reach Kafka at h:1 (ECONNREFUSED)' });
    consumer.events.assigned([{ topic: 't', partition: 0 }], 1);
    await finish(0);
    expect(consumer.commits).toEqual([]);
    consumer.events.records([record(0, 10)]);
    await tick();
    await finish(1);
    expect(consumer.committed()).toEqual({ 't:0': 11n });
  });

  it('produces failed conversions to the dead-letter topic before committing them', async () => {
    const { source, consumer, produced, finish } = setup({ deadLetterTopic: 'dlq' });
    await source.start();
    consumer.events.assigned([{ topic: 't', partition: 0 }], 1);
    consumer.events.records([record(0, 0, 1, 'good'), record(0, 1, 1, 'bad')]);
    await tick();
    await finish(0, (m) => Buffer.from(m.payload).toString() === 'bad');
    expect(produced.map((r) => [r.topic, r.value.toString()])).toEqual([['dlq', 'bad']]);
    expect(consumer.committed()).toEqual({ 't:0': 2n });
  });

  it('stops: leaves batches the host released uncommitted', async () => {
    const { source, consumer, pending } = setup();
    await source.start();
    consumer.events.assigned([{ topic: 't', partition: 0 }], 1);
    consumer.events.records([record(0, 0)]);
    await tick();
    const stopping = source.stop();
    const { ShutdownError } = await import('@tbi/plugin-api');
    // The host rejects submits in flight when it stops.
    (pending[0] as unknown as { resolve: (v: unknown) => void }).resolve(Promise.reject(new ShutdownError()));
    await stopping;
    expect(consumer.commits).toEqual([]);
  });
});
