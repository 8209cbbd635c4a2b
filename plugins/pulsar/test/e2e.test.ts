// What is specific to the Pulsar connector, against the real standalone with the WebSocket
// driver: every subscription type, a Shared subscription split across two integrations, token
// authentication (on a private instance with it on), negative acks and the broker's dead-letter
// topic, keyed downlinks with properties, and a clear error for a wrong namespace.
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestIntegration, type TestIntegration } from '@tbi/plugin-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessageId, formatMessageId } from '../src/message-id.js';
import plugin from '../src/plugin.js';
import { CERTS, instance, jwt, listen, produce, SHARED, topicOf, unique } from './harness.js';

const shared = instance();
const auth = instance('TBI_PULSAR_AUTH_PORT_BASE', 'auth', { auth: 'token' });
const kits: TestIntegration[] = [];

beforeAll(async () => {
  await Promise.all([shared.start(), auth.start()]);
}, 300_000);
afterAll(async () => {
  await Promise.all(kits.map((k) => k.close().catch(() => {})));
  await auth.stop();
}, 120_000);

const payload = (run: string, n: number, extra: Record<string, unknown> = {}) => JSON.stringify({ device: `dev-${run}`, values: { n }, ...extra });
const ns = (kit: TestIntegration) => kit.storedTexts().map((t) => (JSON.parse(t) as { values: { n: number } }).values.n);

async function start(uplink: Record<string, unknown>, extra: Record<string, unknown> = {}, options = {}): Promise<TestIntegration> {
  const kit = await startTestIntegration(
    plugin,
    {
      webServiceUrl: SHARED.webServiceUrl,
      reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
      uplink: { subscriptionName: 'tbi-e2e', initialPosition: 'Earliest', batch: { maxMessages: 50, timeoutMs: 10 }, ...uplink },
      ...extra,
    },
    options,
  );
  kits.push(kit);
  if (kit.status().state === 'failed') throw new Error(`start failed: ${kit.status().error}`);
  await kit.waitFor(() => kit.health().status === 'up', 'up');
  return kit;
}

describe('subscription types', () => {
  for (const type of ['Exclusive', 'Failover', 'Shared', 'Key_Shared'] as const) {
    it(`${type}: stores every message once, with topic, message id, key, times and properties as metadata`, { timeout: 60_000 }, async () => {
      const run = unique(type.toLowerCase());
      const topic = topicOf(run);
      const kit = await start({ topics: [topic], subscriptionType: type });
      await produce(
        topic,
        Array.from({ length: 20 }, (_, n) => ({ payload: payload(run, n), key: `k${n % 3}`, properties: { site: 'north' } })),
      );
      await kit.waitFor(() => kit.stored().length >= 20, '20 stored');
      expect(new Set(ns(kit)).size).toBe(20);
      const m = kit.stored()[0]!;
      expect(m.metadata).toMatchObject({ topic, site: 'north', redeliveryCount: '0' });
      expect(m.metadata.key).toMatch(/^k[0-2]$/);
      expect(Number(m.metadata.publishTime)).toBeGreaterThan(Date.now() - 120_000);
      expect(m.sourceId).toBe(`${topic}@${formatMessageId(decodeMessageId(m.metadata.messageId!)!)}`);
      expect(await kit.metric('tbi_pulsar_messages_acked_total')).toBe(20);
      await kit.close();
    });
  }

  it('Exclusive refuses a second consumer, and the error names the subscription', { timeout: 60_000 }, async () => {
    const run = unique('exclusive-busy');
    const topic = topicOf(run);
    await start({ topics: [topic], subscriptionType: 'Exclusive' });
    const second = await startTestIntegration(plugin, {
      webServiceUrl: SHARED.webServiceUrl,
      uplink: { topics: [topic], subscriptionName: 'tbi-e2e', subscriptionType: 'Exclusive' },
    });
    kits.push(second);
    expect((await second.failed()).error).toMatch(/tbi-e2e/);
  });
});

describe('Shared subscription across two integrations', () => {
  it('splits the messages between both and every one is stored exactly once', { timeout: 90_000 }, async () => {
    const run = unique('split');
    const topic = topicOf(run);
    const a = await start({ topics: [topic], subscriptionType: 'Shared', receiverQueueSize: 10 });
    const b = await start({ topics: [topic], subscriptionType: 'Shared', receiverQueueSize: 10 });
    await produce(
      topic,
      Array.from({ length: 400 }, (_, n) => payload(run, n)),
    );
    await a.waitFor(() => a.stored().length + b.stored().length >= 400, 'all 400 stored');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const all = [...ns(a), ...ns(b)];
    expect(all.length).toBe(400);
    expect(new Set(all).size).toBe(400);
    expect(a.stored().length).toBeGreaterThan(0);
    expect(b.stored().length).toBeGreaterThan(0);
  });

  it('several connections of one integration share a Key_Shared subscription', { timeout: 60_000 }, async () => {
    const run = unique('connections');
    const topic = topicOf(run);
    const kit = await start({ topics: [topic], subscriptionType: 'Key_Shared', connections: 3 });
    expect(await kit.metric('tbi_pulsar_consumers_connected')).toBe(3);
    await produce(
      topic,
      Array.from({ length: 300 }, (_, n) => ({ payload: payload(run, n), key: `k${n % 17}` })),
    );
    await kit.waitFor(() => kit.stored().length >= 300, '300 stored');
    expect(new Set(ns(kit)).size).toBe(300);
  });
});

describe('token authentication', () => {
  const config = (token: Record<string, string>, run: string) => ({
    webServiceUrl: auth.webServiceUrl,
    ...token,
    uplink: { topics: [topicOf(run)], subscriptionName: 'tbi-auth', initialPosition: 'Earliest' },
  });

  it('consumes with a valid JWT read from a file', { timeout: 60_000 }, async () => {
    const run = unique('auth-ok');
    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-pulsar-auth-'));
    writeFileSync(path.join(dir, 'token'), `${jwt(auth.state, 'tbi-client')}\n`);
    const kit = await startTestIntegration(plugin, config({ tokenFile: 'token' }, run), { configDir: dir });
    kits.push(kit);
    expect(kit.status().state).toBe('running');
    await kit.waitFor(() => kit.health().status === 'up', 'up');
    await produce(topicOf(run), [payload(run, 1)], { webServiceUrl: auth.webServiceUrl, token: jwt(auth.state, 'admin') });
    await kit.waitFor(() => kit.stored().length === 1, 'stored');
  });

  for (const [label, token] of [
    ['no token', undefined],
    ['a token signed with another key', () => jwt(auth.state, 'tbi-client', { secret: Buffer.alloc(32, 7) })],
    ['an expired token', () => jwt(auth.state, 'tbi-client', { expiresInSec: -60 })],
  ] as const) {
    it(`refuses ${label}: start fails with HTTP 401 naming the topic`, { timeout: 60_000 }, async () => {
      const run = unique('auth-refused');
      const kit = await startTestIntegration(plugin, config(token ? { token: token() } : {}, run));
      kits.push(kit);
      const { error } = await kit.failed();
      expect(error).toMatch(/HTTP 401/);
      expect(error).toContain(topicOf(run));
    });
  }
});

describe('failed conversions', () => {
  it("are negatively acknowledged up to maxRedeliverCount, then land in the broker's dead-letter topic", { timeout: 90_000 }, async () => {
    const run = unique('dlq');
    const topic = topicOf(run);
    const dlq = topicOf(`${run}-DLQ`);
    // A subscription on the DLQ topic first, so the dead letters are kept for us.
    const dead = await listen(dlq, 'tbi-dlq-reader');
    try {
      const kit = await start({ topics: [topic], subscriptionType: 'Shared', maxRedeliverCount: 2, deadLetterTopic: dlq, negativeAckRedeliveryDelayMs: 200 });
      await produce(topic, [payload(run, 0, { reject: true }), payload(run, 1)]);
      await kit.waitFor(() => dead.received.length === 1, 'the rejected message is in the DLQ topic', 30_000);
      expect(JSON.parse(dead.received[0]!.payload)).toMatchObject({ reject: true });
      expect(dead.received[0]!.properties).toMatchObject({ REAL_TOPIC: topic });
      expect(ns(kit)).toEqual([1]);
      // Delivered once, then twice more (each failure negatively acknowledged), then moved.
      expect(await kit.metric('tbi_pulsar_messages_nacked_total')).toBe(3);
      expect(await kit.deadLetters()).toEqual([]);
    } finally {
      dead.close();
    }
  });

  it("without a dead-letter topic go to the host's dead letters after maxRedeliverCount", { timeout: 60_000 }, async () => {
    const run = unique('host-dlq');
    const topic = topicOf(run);
    const kit = await start({ topics: [topic], subscriptionType: 'Shared', maxRedeliverCount: 2, negativeAckRedeliveryDelayMs: 200 });
    await produce(topic, [payload(run, 0, { reject: true })]);
    await kit.waitFor(async () => (await kit.deadLetters()).length === 1, 'a host dead letter', 30_000);
    expect(await kit.metric('tbi_pulsar_messages_nacked_total')).toBe(2);
    expect(await kit.metric('tbi_pulsar_messages_dead_lettered_total')).toBe(1);
  });
});

describe('downlink', () => {
  it('sends to metadata.topic with metadata.key and the other metadata as properties; sent = broker ack', { timeout: 60_000 }, async () => {
    const run = unique('down');
    const topic = topicOf(`${run}-commands`);
    const receiver = await listen(topic, 'tbi-down-reader');
    try {
      const kit = await startTestIntegration(plugin, { webServiceUrl: SHARED.webServiceUrl, downlink: { topic: topicOf('unused-default') } });
      kits.push(kit);
      const result = await kit.downlink({ deviceName: 'd1', msg: { method: 'reboot' }, metadata: { topic, key: 'd1', site: 'north' } });
      expect(result).toEqual({ ok: true });
      await kit.waitFor(() => receiver.received.length === 1, 'received');
      expect(receiver.received[0]).toMatchObject({ payload: JSON.stringify({ method: 'reboot' }), key: 'd1', properties: { site: 'north' } });
      expect(await kit.metric('tbi_pulsar_downlinks_sent_total')).toBe(1);
    } finally {
      receiver.close();
    }
  });
});

describe('TLS', () => {
  it('consumes over wss:// with the CA from a file', { timeout: 60_000 }, async () => {
    const run = unique('tls');
    const topic = topicOf(run);
    const kit = await start(
      { topics: [topic], subscriptionType: 'Shared' },
      { webServiceUrl: SHARED.webServiceTlsUrl, tls: { ca: path.join(CERTS, 'ca.crt') } },
    );
    await produce(topic, [payload(run, 7)]);
    await kit.waitFor(() => kit.stored().length === 1, 'stored over TLS');
    expect(ns(kit)).toEqual([7]);
  });

  it('without the CA the certificate is refused and health says why', { timeout: 60_000 }, async () => {
    const run = unique('tls-refused');
    const kit = await startTestIntegration(plugin, {
      webServiceUrl: SHARED.webServiceTlsUrl,
      reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
      uplink: { topics: [topicOf(run)], subscriptionName: 's' },
    });
    kits.push(kit);
    await kit.waitFor(() => kit.health().status === 'degraded', 'degraded');
    expect(kit.health().detail).toMatch(/certificate/i);
  });
});

describe('configuration errors', () => {
  it('a wrong namespace fails start with the broker’s "Namespace not found" naming the topic', { timeout: 30_000 }, async () => {
    const kit = await startTestIntegration(plugin, {
      webServiceUrl: SHARED.webServiceUrl,
      uplink: { topics: ['persistent://public/no-such-ns/t'], subscriptionName: 's' },
    });
    kits.push(kit);
    expect((await kit.failed()).error).toMatch(/persistent:\/\/public\/no-such-ns\/t.*HTTP 404 Namespace not found/);
  });
});
