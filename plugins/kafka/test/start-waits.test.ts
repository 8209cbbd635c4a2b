// What a kafka integration does at start when it cannot consume yet, against the real broker:
// topics that do not exist (wait, or create them), and brokers that cannot be reached.
import { Admin } from '@platformatic/kafka';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBroker, numbered, PLAINTEXT, produce, startIntegration, unique, waitFor } from './harness.js';

beforeAll(() => ensureBroker(), 180_000);

const uplink = (topic: string, extra: Record<string, unknown> = {}) => ({
  topics: [topic],
  groupId: unique('g'),
  commitIntervalMs: 100,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1000,
  ...extra,
});

async function partitionsOf(topic: string): Promise<number | undefined> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [PLAINTEXT] });
  try {
    const metadata = await admin.metadata({ topics: [topic] });
    return metadata.topics.get(topic)?.partitionsCount;
  } finally {
    await admin.close();
  }
}

describe('kafka topics that do not exist at start', () => {
  it('waits for the topic, says so in health, and consumes it once it exists', async () => {
    const topic = unique('not-yet');
    const h = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: uplink(topic) });
    try {
      const health = h.integration.health();
      expect(health.status).toBe('degraded');
      expect(health.detail).toMatch(new RegExp(`^waiting for topic ${topic} to exist; retrying in \\d+ s$`));
      await produce(topic, numbered(5)); // the broker creates the topic for the producer
      await waitFor(() => h.uplink.stored.size === 5, 30_000, '5 stored');
      expect(h.integration.health().status).toBe('up');
    } finally {
      await h.stop();
    }
  });

  it('with autoCreateTopics, creates the topic at start with the configured partitions', async () => {
    const topic = unique('auto-created');
    const h = await startIntegration({ bootstrapServers: PLAINTEXT, uplink: uplink(topic, { autoCreateTopics: true, newTopicPartitions: 3 }) });
    try {
      expect(await partitionsOf(topic)).toBe(3);
      expect(h.integration.health().status).toBe('up');
      await produce(topic, numbered(6));
      await waitFor(() => h.uplink.stored.size === 6, 30_000, '6 stored');
    } finally {
      await h.stop();
    }
  });
});

describe('kafka brokers that cannot be reached', () => {
  it('start returns at once; health names the bootstrap servers, the cause and the next try', async () => {
    const started = Date.now();
    const h = await startIntegration({ bootstrapServers: '127.0.0.1:1', uplink: uplink(unique('unreachable')) });
    try {
      expect(Date.now() - started).toBeLessThan(3000);
      expect(h.integration.health()).toEqual({
        status: 'down',
        detail: expect.stringMatching(/^cannot reach Kafka at 127\.0\.0\.1:1 \(ECONNREFUSED\); retrying in \d s$/),
      });
      await new Promise((resolve) => setTimeout(resolve, 1500)); // past the first retry: same words
      expect(h.integration.health().detail).toMatch(/^cannot reach Kafka at 127\.0\.0\.1:1 \(ECONNREFUSED\); retrying in \d s$/);
    } finally {
      await h.stop();
    }
  });
});
