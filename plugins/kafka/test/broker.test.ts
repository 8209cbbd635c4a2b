// The plugin's integration in-process against the real Kafka 4 broker (scripts/brokers/kafka.sh),
// with a recording uplink in place of the pipeline.
import { beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../src/dead-letter.js';
import {
  brokerScript,
  caPem,
  committedOffsets,
  createTopic,
  ensureBroker,
  numbered,
  PLAINTEXT,
  produce,
  readTopic,
  RecordingUplink,
  SASL,
  SSL,
  SSL_DIR,
  startIntegration,
  topicExists,
  unique,
  waitFor,
} from './harness.js';
import { kafkaListeners } from '../../../scripts/ports.mjs';

beforeAll(() => ensureBroker(), 180_000);

const uplink = (topic: string, extra: Record<string, unknown> = {}) => ({
  topics: [topic],
  groupId: unique('g'),
  commitIntervalMs: 100,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1000,
  ...extra,
});

describe('kafka uplink against a real broker', () => {
  it('consumes every partition from the earliest offset and commits the end offsets', async () => {
    const topic = unique('earliest');
    await createTopic(topic, 3);
    await produce(topic, numbered(300));
    const u = uplink(topic, { autoOffsetReset: 'earliest' });
    const h = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: u });
    try {
      await waitFor(() => h.uplink.stored.size === 300, 60_000, '300 stored');
      const partitions = new Set([...h.uplink.stored.values()].map((m) => m.metadata.partition));
      expect(partitions).toEqual(new Set(['0', '1', '2']));
      const one = [...h.uplink.stored.values()][0]!;
      expect(one.sourceId).toBe(`${topic}/${one.metadata.partition}/${one.metadata.offset}`);
      expect(Object.keys(one.metadata).sort()).toEqual(['key', 'offset', 'partition', 'timestamp', 'topic']);
      await waitFor(async () => (await committedOffsets(u.groupId, topic, 3)).reduce((a, b) => a + b, 0n) === 300n, 30_000, 'commits');
      expect(h.integration.health().status).toBe('up');
    } finally {
      await h.stop();
    }
  });

  it('with latest, skips what was there before the group existed', async () => {
    const topic = unique('latest');
    await createTopic(topic, 2);
    await produce(topic, numbered(50));
    const h = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: uplink(topic, { autoOffsetReset: 'latest' }) });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await produce(topic, numbered(20, 5, 1000));
      await waitFor(() => h.uplink.stored.size === 20, 30_000, '20 stored');
      const ns = [...h.uplink.stored.values()].map((m) => JSON.parse(Buffer.from(m.payload).toString()).n as number);
      expect(Math.min(...ns)).toBe(1000);
    } finally {
      await h.stop();
    }
  });

  it('commits nothing while the platform stalls, then everything once it stored', async () => {
    const topic = unique('stall');
    await createTopic(topic, 2);
    const u = uplink(topic);
    const recording = new RecordingUplink();
    recording.stall();
    const h = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: { ...u, maxPollRecords: 10, maxInFlightBatches: 2 } }, recording);
    try {
      await produce(topic, numbered(100));
      await waitFor(() => recording.submits.length >= 1, 30_000, 'a submit');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // Back-pressure: never more than maxInFlightBatches in the pipeline while it stalls.
      expect(recording.submits.length).toBeLessThanOrEqual(2 + 1);
      expect(await committedOffsets(u.groupId, topic, 2)).toEqual([-1n, -1n]);
      expect(h.metrics.values.get('tbi_kafka_consumer_paused{}')).toBe(1);
      recording.release();
      await waitFor(() => recording.stored.size === 100, 30_000, '100 stored');
      await waitFor(async () => (await committedOffsets(u.groupId, topic, 2)).reduce((a, b) => a + b, 0n) === 100n, 30_000, 'commits');
      expect(recording.submits.every((n) => n <= 10)).toBe(true);
    } finally {
      await h.stop();
    }
  });

  it('after a stop with batches still in the pipeline, a new member reads them again (nothing lost)', async () => {
    const topic = unique('redeliver');
    await createTopic(topic, 1);
    const u = uplink(topic, { maxPollRecords: 25 });
    const first = new RecordingUplink();
    const h1 = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: u }, first);
    await produce(topic, numbered(100));
    await waitFor(() => first.stored.size >= 50, 30_000, 'half stored');
    first.stall();
    await produce(topic, numbered(100, 10, 100));
    await waitFor(() => first.submits.length > 4, 30_000, 'submits after the stall');
    await h1.stop(); // stalled submits are released with ShutdownError: not committed
    const second = new RecordingUplink();
    const h2 = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: u }, second);
    try {
      await waitFor(() => new Set([...first.stored.keys(), ...second.stored.keys()]).size === 200, 30_000, 'all 200 stored');
      // The second member started at the committed offset: only what the first had not committed.
      expect(second.stored.size).toBeLessThan(200);
    } finally {
      await h2.stop();
    }
  });

  it('produces failed conversions to the dead-letter topic with Kafka Connect headers, then commits', async () => {
    const topic = unique('dlq-src');
    const dlq = unique('dlq');
    await createTopic(topic, 1);
    await createTopic(dlq, 1);
    const u = uplink(topic, { deadLetterTopic: dlq });
    const recording = new RecordingUplink();
    recording.failWhen = (m) => Buffer.from(m.payload).toString().includes('bad');
    const h = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: u }, recording);
    try {
      await produce(topic, [
        { key: 'a', value: 'good-1' },
        { key: 'b', value: 'bad-1', headers: { origin: 'sensor' } },
        { key: 'c', value: 'good-2' },
        { value: 'bad-2' },
      ]);
      const dead = await readTopic(dlq, 2);
      expect(dead.map((r) => r.value).sort()).toEqual(['bad-1', 'bad-2']);
      const bad1 = dead.find((r) => r.value === 'bad-1')!;
      expect(bad1.key).toBe('b');
      expect(bad1.headers.get('origin')).toBe('sensor');
      expect(bad1.headers.get(DLQ_HEADERS.topic)).toBe(topic);
      expect(bad1.headers.get(DLQ_HEADERS.offset)).toBe('1');
      expect(bad1.headers.get(DLQ_HEADERS.className)).toBe('tbi.ConverterError.THREW');
      expect(bad1.headers.get(DLQ_HEADERS.message)).toBe(`cannot convert ${topic}/0/1`);
      await waitFor(async () => (await committedOffsets(u.groupId, topic, 1))[0] === 4n, 30_000, 'commit 4');
      expect(recording.stored.size).toBe(2);
    } finally {
      await h.stop();
    }
  });

  it('a group of two members shares the partitions and stores everything once', async () => {
    const topic = unique('group');
    await createTopic(topic, 4);
    const u = uplink(topic);
    const a = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: u });
    const b = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: u });
    try {
      // Wait for the rebalance that gives b its share before producing.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await produce(topic, numbered(400, 40));
      await waitFor(() => new Set([...a.uplink.stored.keys(), ...b.uplink.stored.keys()]).size === 400, 60_000, '400 stored');
      expect(a.uplink.stored.size).toBeGreaterThan(0);
      expect(b.uplink.stored.size).toBeGreaterThan(0);
      const partitionsOf = (h: typeof a) => new Set([...h.uplink.stored.values()].map((m) => m.metadata.partition));
      expect([...partitionsOf(a)].filter((p) => partitionsOf(b).has(p))).toEqual([]);
      await waitFor(async () => (await committedOffsets(u.groupId, topic, 4)).reduce((x, y) => x + y, 0n) === 400n, 30_000, 'commits');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('consumes every topic matching a pattern, including one created later', async () => {
    const prefix = unique('pattern');
    await createTopic(`${prefix}.a`, 1);
    await createTopic(`${prefix}.b`, 2);
    await createTopic(unique('other'), 1);
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const h = await startIntegration({
      bootstrapServers: PLAINTEXT,
      uplink: uplink('unused', { topics: [], topicPattern: `^${escaped}\\.`, topicRefreshMs: 500 }),
    });
    try {
      await produce(`${prefix}.a`, numbered(5));
      await produce(`${prefix}.b`, numbered(5));
      await waitFor(() => h.uplink.stored.size === 10, 30_000, '10 stored');
      await createTopic(`${prefix}.c`, 1);
      await produce(`${prefix}.c`, numbered(5));
      await waitFor(() => h.uplink.stored.size === 15, 60_000, '15 stored (new topic picked up)');
      const topics = new Set([...h.uplink.stored.values()].map((m) => m.metadata.topic));
      expect(topics).toEqual(new Set([`${prefix}.a`, `${prefix}.b`, `${prefix}.c`]));
    } finally {
      await h.stop();
    }
  });

  it('stops fetching while the host asks to pause', async () => {
    const topic = unique('pause');
    await createTopic(topic, 1);
    const h = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: uplink(topic) });
    try {
      await produce(topic, numbered(10));
      await waitFor(() => h.uplink.stored.size === 10, 30_000, '10 stored');
      h.integration.pause!();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await produce(topic, numbered(10, 10, 10));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(h.uplink.stored.size).toBe(10);
      h.integration.resume!();
      await waitFor(() => h.uplink.stored.size === 20, 30_000, '20 stored');
    } finally {
      await h.stop();
    }
  });

  it('reports consumer lag per partition', async () => {
    const topic = unique('lag');
    await createTopic(topic, 1);
    const recording = new RecordingUplink();
    const h = await startIntegration(
      { bootstrapServers: PLAINTEXT, uplink: uplink(topic, { lagIntervalMs: 200, maxPollRecords: 5, maxInFlightBatches: 1 }) },
      recording,
    );
    try {
      await produce(topic, numbered(5));
      await waitFor(() => recording.stored.size === 5, 30_000, '5 stored');
      recording.stall();
      await produce(topic, numbered(30, 5, 5));
      const lag = () => h.metrics.values.get(`tbi_kafka_consumer_lag${JSON.stringify({ topic, partition: '0' })}`);
      await waitFor(() => lag() === 30, 30_000, 'lag 30');
      recording.release();
      await waitFor(() => lag() === 0, 30_000, 'lag 0');
    } finally {
      await h.stop();
    }
  });
});

describe('kafka brokers unreachable at start', () => {
  it('starts down, keeps trying, and consumes once the broker is up', async () => {
    const { env, plaintext: bootstrap } = kafkaListeners('TBI_KAFKA_LATE_START_PORT_BASE', 'late-start');
    await brokerScript('stop', env);
    const topic = unique('late');
    const h = await startIntegration({ bootstrapServers: bootstrap, uplink: uplink(topic), properties: { retries: 1, retryDelay: 200 } });
    try {
      expect(h.integration.health()).toMatchObject({
        status: 'down',
        detail: expect.stringMatching(new RegExp(`^cannot reach Kafka at ${bootstrap.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`)),
      });
      await brokerScript('start', env);
      await createTopic(topic, 1, [bootstrap]);
      await produce(topic, numbered(10), [bootstrap]);
      await waitFor(() => h.uplink.stored.size === 10, 90_000, '10 stored once the broker is up');
      expect(h.integration.health().status).toBe('up');
    } finally {
      await h.stop();
      await brokerScript('stop', env);
    }
  }, 180_000);
});

describe('kafka security against a real broker', () => {
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    it(`consumes and produces over SASL_PLAINTEXT with ${mechanism}`, async () => {
      const topic = unique(`sasl-${mechanism.toLowerCase()}`);
      await createTopic(topic, 1);
      process.env.TBI_TEST_KAFKA_PASSWORD = 'tbi-secret';
      const h = await startIntegration({
        bootstrapServers: SASL,
        securityProtocol: 'SASL_PLAINTEXT',
        sasl: { mechanism, username: 'tbi', password: 'tbi-secret' },
        uplink: uplink(topic),
        downlink: { topic },
      });
      try {
        await h.integration.send!({
          commandId: 'c',
          deviceName: 'd',
          payload: Buffer.from('via-sasl'),
          encoded: { contentType: 'TEXT', data: 'via-sasl', metadata: {} },
        });
        await waitFor(() => [...h.uplink.stored.values()].some((m) => Buffer.from(m.payload).toString() === 'via-sasl'), 30_000, 'round trip');
      } finally {
        await h.stop();
      }
    });
  }

  it('refuses a wrong SASL password', async () => {
    const topic = unique('sasl-wrong');
    await expect(
      startIntegration({
        bootstrapServers: SASL,
        securityProtocol: 'SASL_PLAINTEXT',
        sasl: { mechanism: 'SCRAM-SHA-256', username: 'tbi', password: 'wrong' },
        uplink: uplink(topic),
        properties: { retries: 0 },
      }),
    ).rejects.toThrow();
  });

  it('consumes and produces over SSL with the test CA and a client certificate', async () => {
    const topic = unique('ssl');
    await createTopic(topic, 1);
    const h = await startIntegration({
      bootstrapServers: SSL,
      securityProtocol: 'SSL',
      ssl: { ca: caPem(), cert: `${SSL_DIR}/client.pem`, key: `${SSL_DIR}/client-key.pem` },
      uplink: uplink(topic),
      downlink: { topic, compression: 'zstd' },
    });
    try {
      await h.integration.send!({
        commandId: 'c',
        deviceName: 'd',
        payload: Buffer.from('via-ssl'),
        encoded: { contentType: 'TEXT', data: 'via-ssl', metadata: {} },
      });
      await waitFor(() => [...h.uplink.stored.values()].some((m) => Buffer.from(m.payload).toString() === 'via-ssl'), 30_000, 'round trip');
    } finally {
      await h.stop();
    }
  });
});

describe('kafka downlink against a real broker', () => {
  it('produces with the key and headers from the converter metadata', async () => {
    const topic = unique('downlink');
    await createTopic(topic, 3);
    const h = await startIntegration({ bootstrapServers: PLAINTEXT, downlink: { topic: 'unused-default', compression: 'lz4' } });
    try {
      await Promise.all(
        ['a', 'b', 'c', 'd'].map((n) =>
          h.integration.send!({
            commandId: n,
            deviceName: 'dev-7',
            payload: Buffer.from(`{"cmd":"${n}"}`),
            encoded: { contentType: 'JSON', data: '', metadata: { topic, key: 'dev-7', requestId: n } },
          }),
        ),
      );
      const records = await readTopic(topic, 4);
      expect(records.map((r) => r.value)).toEqual(['{"cmd":"a"}', '{"cmd":"b"}', '{"cmd":"c"}', '{"cmd":"d"}']);
      expect(new Set(records.map((r) => r.partition)).size).toBe(1); // one key, one partition, in order
      expect(records.every((r) => r.key === 'dev-7')).toBe(true);
      expect(records.map((r) => r.headers.get('requestId'))).toEqual(['a', 'b', 'c', 'd']);
      expect(h.integration.health().status).toBe('up');
    } finally {
      await h.stop();
    }
  });

  it('rejects a downlink without any topic as not retryable', async () => {
    const h = await startIntegration({ bootstrapServers: PLAINTEXT });
    try {
      await expect(
        h.integration.send!({ commandId: 'x', deviceName: 'd', payload: Buffer.from('x'), encoded: { contentType: 'TEXT', data: 'x', metadata: {} } }),
      ).rejects.toMatchObject({ code: 'DELIVERY_FAILED', retryable: false });
    } finally {
      await h.stop();
    }
  });

  it('produces to a topic that does not exist only with autoCreateTopics, like the consumer', { timeout: 60_000 }, async () => {
    const command = (text: string) => ({
      commandId: text,
      deviceName: 'dev-1',
      payload: Buffer.from(text),
      encoded: { contentType: 'TEXT' as const, data: text, metadata: {} },
    });
    const refused = unique('downlink-missing');
    const off = await startIntegration({ bootstrapServers: PLAINTEXT, downlink: { topic: refused, timeoutMs: 5000 } });
    try {
      await expect(off.integration.send!(command('refused'))).rejects.toThrow(/producing to kafka failed/);
    } finally {
      await off.stop();
    }
    expect(await topicExists(refused)).toBe(false);

    const source = unique('downlink-src');
    const created = unique('downlink-created');
    const on = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: uplink(source, { autoCreateTopics: true }), downlink: { topic: created } });
    try {
      await on.integration.send!(command('created'));
      expect((await readTopic(created, 1)).map((r) => r.value)).toEqual(['created']);
    } finally {
      await on.stop();
    }
  });
});
