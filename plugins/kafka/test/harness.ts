// In-process harness for broker tests: the plugin's real integration (real @platformatic/kafka
// driver, real Kafka broker from scripts/brokers/kafka.sh) with an `IntegrationContext` whose
// `uplink.submit` records messages by sourceId instead of converting and storing them. A test can
// make it stall (platform down), fail conversions of chosen messages, or reject (host stopping).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import {
  ShutdownError,
  type Integration,
  type IntegrationContext,
  type Logger,
  type RawMessage,
  type SubmitOptions,
  type UplinkOutcome,
  type UplinkService,
} from '@tbi/plugin-api';
import { bareContext, memoryMetrics, waitFor as testkitWaitFor, uniqueName, type MemoryMetrics } from '@tbi/plugin-testkit';
import { Hono } from 'hono';
import { kafkaConfigSchema, type KafkaConfig, type KafkaConfigInput } from '../src/config.js';
import kafkaPlugin from '../src/plugin.js';
import { kafkaListeners } from '../../../scripts/ports.mjs';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');
// The shared broker's listeners (scripts/ports.mjs: the environment, else scripts/ports.env).
const SHARED = kafkaListeners();
export const PLAINTEXT = SHARED.plaintext;
export const SASL = SHARED.sasl;
export const SSL = SHARED.ssl;
export const SSL_DIR = path.join(ROOT, '.cache/kafka/ssl');
export const caPem = () => readFileSync(path.join(SSL_DIR, 'ca.pem'), 'utf8');

/** Starts (or finds running) a broker instance of scripts/brokers/kafka.sh. */
export const ensureBroker = (env: Record<string, string> = {}): Promise<void> => brokerScript('start', env);

/** Runs scripts/brokers/kafka.sh with a command for one broker instance. */
export async function brokerScript(command: 'start' | 'stop' | 'restart', env: Record<string, string> = {}): Promise<void> {
  await promisify(execFile)(path.join(ROOT, 'scripts/brokers/kafka.sh'), [command], { env: { ...process.env, ...env }, timeout: 180_000 });
}

/** A topic (or group) name no other test uses. */
export const unique = (prefix: string): string => uniqueName(prefix);

export async function createTopic(topic: string, partitions = 1, brokers = [PLAINTEXT]): Promise<void> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: brokers });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
}

/** Whether `topic` exists on the broker. */
export async function topicExists(topic: string, brokers = [PLAINTEXT]): Promise<boolean> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: brokers });
  try {
    return (await admin.listTopics({ includeInternals: false })).includes(topic);
  } finally {
    await admin.close();
  }
}

export interface TestRecord {
  key?: string;
  value: string;
  partition?: number;
  headers?: Record<string, string>;
}

/** A producer for test data (acks=all); `send` resolves when the broker has every record. */
export function testProducer(brokers = [PLAINTEXT], retries = 20) {
  // Idempotent: a retried send (slow broker, restart) must not write a record twice, or the
  // tests' exact counts would be off.
  const producer = new Producer({
    clientId: 'test-producer',
    bootstrapBrokers: brokers,
    autocreateTopics: true,
    idempotent: true,
    acks: -1,
    retries,
    retryDelay: 500,
  });
  return {
    async send(topic: string, records: TestRecord[]): Promise<void> {
      for (let i = 0; i < records.length; i += 1000) {
        await producer.send({
          messages: records.slice(i, i + 1000).map((r) => ({
            topic,
            value: Buffer.from(r.value),
            ...(r.key === undefined ? {} : { key: Buffer.from(r.key) }),
            ...(r.partition === undefined ? {} : { partition: r.partition }),
            headers: new Map(Object.entries(r.headers ?? {}).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
          })),
        });
      }
    },
    close: () => producer.close(true),
  };
}

export async function produce(topic: string, records: TestRecord[], brokers = [PLAINTEXT]): Promise<void> {
  const p = testProducer(brokers);
  try {
    await p.send(topic, records);
  } finally {
    await p.close();
  }
}

/** Produces `{"n": from..from+count-1}` keyed `dev-<n % devices>`, every record with the given timestamp (epoch ms). */
export async function produceBand(topic: string, from: number, count: number, timestamp: number, brokers = [PLAINTEXT], devices = 50): Promise<void> {
  const producer = new Producer({ clientId: 'band-producer', bootstrapBrokers: brokers, idempotent: true, acks: -1, retries: 20, retryDelay: 500 });
  try {
    for (let i = 0; i < count; i += 2000) {
      const messages = [];
      for (let n = from + i; n < from + Math.min(count, i + 2000); n++) {
        messages.push({ topic, key: Buffer.from(`dev-${n % devices}`), value: Buffer.from(JSON.stringify({ n })), timestamp: BigInt(timestamp) });
      }
      await producer.send({ messages });
    }
  } finally {
    await producer.close(true);
  }
}

/** A record as the test readers return it. */
export interface ReadRecord {
  key: string | undefined;
  value: string;
  headers: Map<string, string>;
  partition: number;
}

/** Reads `count` records of a topic from the beginning (own throwaway group). */
export function readTopic(topic: string, count: number, timeoutMs = 30_000): Promise<ReadRecord[]> {
  return readTopicUntil(topic, (records) => records.length >= count, { timeoutMs, what: `${count} records` });
}

/** Reads a topic from the beginning until `enough` says so (own throwaway group). */
export async function readTopicUntil(
  topic: string,
  enough: (records: readonly ReadRecord[]) => boolean,
  options: { brokers?: string[]; timeoutMs?: number; what?: string } = {},
): Promise<ReadRecord[]> {
  const consumer = new Consumer({ clientId: 'test-reader', groupId: unique('reader'), bootstrapBrokers: options.brokers ?? [PLAINTEXT], autocommit: false });
  const records: ReadRecord[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${records.length} records of ${topic}, waiting for ${options.what ?? 'enough'}`)),
        options.timeoutMs ?? 30_000,
      );
      if (enough(records)) {
        clearTimeout(timer);
        resolve();
      }
      stream.on('data', (m) => {
        records.push({
          key: m.key?.toString(),
          value: m.value?.toString() ?? '',
          headers: new Map(m.headerEntries.map(([k, v]) => [k.toString(), v?.toString() ?? ''])),
          partition: m.partition,
        });
        if (enough(records)) {
          clearTimeout(timer);
          resolve();
        }
      });
      stream.on('error', reject);
    });
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return records;
}

/** Committed offsets of a group for a topic, by partition (-1: none). */
export async function committedOffsets(groupId: string, topic: string, partitions: number): Promise<bigint[]> {
  const consumer = new Consumer({ clientId: 'test-offsets', groupId, bootstrapBrokers: [PLAINTEXT] });
  try {
    const map = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [...Array(partitions).keys()] }] });
    return map.get(topic) ?? [];
  } finally {
    await consumer.close(true);
  }
}

/**
 * Stands in for the pipeline: "stores" every submitted message by its sourceId. `stall()` makes
 * submits wait (platform down) until `release()`; `failWhen` marks messages as failed
 * conversions; `stopping()` makes pending and new submits reject with ShutdownError.
 */
export class RecordingUplink implements UplinkService {
  readonly stored = new Map<string, RawMessage>();
  /** Every submit's message count, in order. */
  readonly submits: number[] = [];
  /** Messages handed over more than once (redeliveries). */
  duplicates = 0;
  failWhen: (m: RawMessage) => boolean = () => false;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  #shutdown: ((e: Error) => void)[] = [];
  #stopping = false;

  stall(): void {
    this.#gate ??= new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  stopping(): void {
    this.#stopping = true;
    for (const reject of this.#shutdown) reject(new ShutdownError());
  }

  async submit(messages: readonly RawMessage[], options: SubmitOptions = {}): Promise<UplinkOutcome[]> {
    if (this.#stopping) throw new ShutdownError();
    this.submits.push(messages.length);
    if (this.#gate !== undefined) {
      await new Promise<void>((resolve, reject) => {
        this.#shutdown.push(reject);
        void this.#gate!.then(resolve);
      });
    }
    return messages.map((m) => {
      if (this.failWhen(m)) {
        const error = { kind: 'THREW' as const, message: `cannot convert ${m.sourceId}` };
        return options.deadLetters === 'caller' ? { status: 'failed' as const, error } : { status: 'dead-lettered' as const, error };
      }
      if (this.stored.has(m.sourceId!)) this.duplicates += 1;
      this.stored.set(m.sourceId!, m);
      return { status: 'stored' as const, records: [] };
    });
  }

  /** Messages refused before conversion (none in these tests: Kafka records have no size limit of the connector's). */
  readonly rejected: Array<{ messages: readonly RawMessage[]; reason: string }> = [];

  async reject(messages: readonly RawMessage[], reason: string): Promise<void> {
    this.rejected.push({ messages, reason });
  }
}

/** Logs to stderr, for debugging a test (`KAFKA_TEST_LOG=1`). */
const stderrLogger: Logger = {
  trace() {},
  debug() {},
  info: (o, m) => process.stderr.write(`INFO ${m} ${JSON.stringify(o, replacer)}\n`),
  warn: (o, m) => process.stderr.write(`WARN ${m} ${JSON.stringify(o, replacer)}\n`),
  error: (o, m) => process.stderr.write(`ERROR ${m} ${JSON.stringify(o, replacer)}\n`),
  child: () => stderrLogger,
};
function replacer(_key: string, value: unknown) {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}

export interface Harness {
  integration: Integration;
  uplink: RecordingUplink;
  metrics: MemoryMetrics;
  config: KafkaConfig;
  stop(): Promise<void>;
}

/** Creates and starts the plugin's integration with a recording uplink. */
export async function startIntegration(input: KafkaConfigInput, uplink = new RecordingUplink(), name = unique('kafka-it')): Promise<Harness> {
  const config = kafkaConfigSchema.parse(input);
  const controller = new AbortController();
  const metrics = memoryMetrics();
  const ctx = bareContext<KafkaConfig>({
    name,
    type: 'kafka',
    config,
    ...(process.env.KAFKA_TEST_LOG ? { logger: stderrLogger } : {}),
    metrics,
    http: new Hono() as IntegrationContext['http'],
    uplink,
    dataDir: '/nonexistent',
    configDir: ROOT,
    signal: controller.signal,
  });
  const integration = await kafkaPlugin.create(ctx);
  await integration.start();
  return {
    integration,
    uplink,
    metrics,
    config,
    async stop() {
      uplink.stopping();
      controller.abort();
      await integration.stop();
    },
  };
}

/** Polls `check` every 100 ms until it returns true (the testkit's `waitFor`, timeout first). */
export function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  return testkitWaitFor(check, what, timeoutMs, 100);
}

/** `count` records `{"n":i}` keyed `dev-<i % devices>`. */
export function numbered(count: number, devices = 10, from = 0): TestRecord[] {
  return Array.from({ length: count }, (_, i) => ({ key: `dev-${(from + i) % devices}`, value: JSON.stringify({ n: from + i }) }));
}
