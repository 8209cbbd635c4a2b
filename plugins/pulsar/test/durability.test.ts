// Nothing lost, nothing stored twice: at least 10,000 messages through real hosts while the host
// is killed, the broker restarts and the platform fails. Every message is counted in the host's
// SQLite database. Needs `pnpm build` first (scripts/test.sh does it).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startHostProcess, withHostLogs, type HostProcess } from '@tbi/plugin-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instance, numbered, PLUGIN_DIR, produce, SHARED, storedRows, storedValues, topicOf, unique, waitFor } from './harness.js';

const TOKEN = 'pulsar-durability-token-0123456789';
const TOTAL = 10_000;
const shared = instance();
// A private instance for the restart test, so other test files keep their broker.
const restart = instance('TBI_PULSAR_RESTART_PORT_BASE', 'e2e-restart');

const UPLINK = `
  var data = decodeToJson(payload);
  var ts = 1700000000000 + data.n * 1000 + (Date.now() % 1000);
  return { deviceName: data.p + '-' + (data.n % 20), deviceType: 'pulsar-e2e', telemetry: { ts: ts, values: { n: data.n } } };
`;

let dir = '';
const hosts: HostProcess[] = [];

beforeAll(async () => {
  await shared.start();
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-pulsar-durability-'));
}, 300_000);

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
}, 60_000);

const withLogs = <T>(run: () => Promise<T>) => withHostLogs(hosts, run);

/** A small receiver queue and batches, so the stream lasts long enough to be interrupted. */
function integration(topic: string, webServiceUrl = SHARED.webServiceUrl, receiverQueueSize = 100) {
  return {
    name: 'durable',
    type: 'pulsar',
    config: {
      webServiceUrl,
      reconnect: { initialDelayMs: 200, maxDelayMs: 2000 },
      uplink: {
        topics: [topic],
        subscriptionName: 'tbi-durable',
        subscriptionType: 'Shared',
        initialPosition: 'Earliest',
        receiverQueueSize,
        batch: { maxMessages: 50, timeoutMs: 20 },
      },
    },
    uplinkConverter: { inline: UPLINK },
  };
}

async function startHost(dataDir: string, integrations: unknown[]): Promise<HostProcess> {
  const host = await startHostProcess({
    dir: await mkdtemp(path.join(dir, 'host-')),
    token: TOKEN,
    config: { http: {}, auth: { token: TOKEN }, dataDir, plugins: [PLUGIN_DIR], log: { level: 'info' }, shutdownGraceMs: 20_000, integrations },
  });
  hosts.push(host);
  return host;
}

const up = (host: HostProcess) => async () => (await host.api('/integrations/durable')).body?.health?.status === 'up';

/** Produces live, `chunk` messages every `pauseMs`, so an interruption lands mid-stream whatever the speed. */
async function produceLive(topic: string, messages: string[], webServiceUrl = SHARED.webServiceUrl, chunk = 100, pauseMs = 20): Promise<void> {
  for (let i = 0; i < messages.length; i += chunk) {
    await produce(topic, messages.slice(i, i + chunk), { webServiceUrl });
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

describe('nothing lost, nothing stored twice', { timeout: 400_000 }, () => {
  it(`a host killed with SIGKILL mid-stream and restarted stores all ${TOTAL} messages exactly once`, async () => {
    const p = unique('kill');
    const topic = topicOf(`${p}-t`);
    const dataDir = path.join(dir, 'kill');
    const first = await startHost(dataDir, [integration(topic)]);
    await withLogs(() => waitFor(up(first), 30_000, 'up'));
    const sending = produceLive(topic, numbered(p, TOTAL));
    sending.catch(() => {});
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) >= 2500, 120_000, 'a part stored'));
    await first.kill();
    const before = storedRows(dataDir, `${p}-`);
    const second = await startHost(dataDir, [integration(topic)]);
    await sending;
    expect(before).toBeLessThan(TOTAL);
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) >= TOTAL, 180_000, `${TOTAL} rows`));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(storedRows(dataDir, `${p}-`)).toBe(TOTAL);
    expect(storedValues(dataDir, `${p}-`).length).toBe(TOTAL);
    expect(await second.metric('tbi_pulsar_messages_acked_total')).toBeGreaterThanOrEqual(TOTAL - before);
  });

  it(`two hosts on one Shared subscription split the stream, and together store all ${TOTAL} messages once`, async () => {
    const p = unique('two');
    const topic = topicOf(`${p}-t`);
    const [a, b] = [path.join(dir, 'two-a'), path.join(dir, 'two-b')];
    const hostA = await startHost(a, [integration(topic)]);
    const hostB = await startHost(b, [integration(topic)]);
    await withLogs(() => waitFor(async () => (await up(hostA)()) && (await up(hostB)()), 30_000, 'both up'));
    await produceLive(topic, numbered(p, TOTAL));
    await withLogs(() => waitFor(() => storedRows(a, `${p}-`) + storedRows(b, `${p}-`) >= TOTAL, 180_000, `${TOTAL} rows in the two hosts`));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const [inA, inB] = [storedValues(a, `${p}-`, true), storedValues(b, `${p}-`, true)];
    // Each host got a share, no message went to both, and none is missing.
    expect(inA.length).toBeGreaterThan(0);
    expect(inB.length).toBeGreaterThan(0);
    expect(inA.length + inB.length).toBe(TOTAL);
    expect(new Set([...inA, ...inB]).size).toBe(TOTAL);
  });

  it(`survives the platform failing for a while: messages wait unacknowledged, then all ${TOTAL} are stored once`, async () => {
    const p = unique('platform');
    const topic = topicOf(`${p}-t`);
    const dataDir = path.join(dir, 'platform-down');
    const host = await startHost(dataDir, [integration(topic, SHARED.webServiceUrl, 1000)]);
    await withLogs(() => waitFor(up(host), 30_000, 'up'));
    await produce(topic, numbered(p, 200));
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) === 200, 60_000, 'first 200'));
    // Hold the database's write lock from outside: every write fails (SQLITE_BUSY, retryable).
    const db = new DatabaseSync(path.join(dataDir, 'platform.db'));
    db.exec('BEGIN IMMEDIATE');
    try {
      await produce(topic, numbered(p, TOTAL - 200, 200));
      await new Promise((resolve) => setTimeout(resolve, 5000));
      expect(storedRows(dataDir, `${p}-`)).toBe(200);
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) >= TOTAL, 180_000, `${TOTAL} rows after the outage`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(storedRows(dataDir, `${p}-`)).toBe(TOTAL);
    expect(storedValues(dataDir, `${p}-`).length).toBe(TOTAL);
  });

  it(`survives a broker restart mid-stream (a private instance): all ${TOTAL} stored once`, async () => {
    await restart.start();
    try {
      const p = unique('bounce');
      const topic = topicOf(`${p}-t`);
      const dataDir = path.join(dir, 'bounce');
      // The whole backlog first (the producer is not what is tested), then a slow consumer.
      await produce(topic, numbered(p, TOTAL), { webServiceUrl: restart.webServiceUrl });
      const host = await startHost(dataDir, [integration(topic, restart.webServiceUrl, 10)]);
      await withLogs(() => waitFor(up(host), 30_000, 'up'));
      await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) >= 1000, 120_000, 'some stored before the restart'));
      await restart.restart();
      expect(storedRows(dataDir, `${p}-`)).toBeLessThan(TOTAL);
      await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) >= TOTAL, 240_000, `${TOTAL} rows after the broker restart`));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(storedRows(dataDir, `${p}-`)).toBe(TOTAL);
      expect(storedValues(dataDir, `${p}-`).length).toBe(TOTAL);
      expect(await host.metric('tbi_pulsar_reconnects_total')).toBeGreaterThan(0);
      await withLogs(() => waitFor(up(host), 60_000, 'up again'));
    } finally {
      await restart.stop();
    }
  });
});
