// End to end: real `tbi start` processes (built host + this plugin's dist, loaded by path) with the
// real sandbox and the embedded platform, against the real Kafka 4 broker. Every message is
// counted in the platform's SQLite database. Needs `pnpm build` first (scripts/test.sh does it).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  SASL,
  SSL,
  SSL_DIR,
  testProducer,
  unique,
  waitFor,
} from './harness.js';
import { startHostProcess, storedTelemetry, type HostProcess } from '@tbi/plugin-testkit';
import { kafkaListeners } from '../../../scripts/ports.mjs';

const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');

const TOKEN = 'kafka-e2e-token-0123456789';

// ThingsBoard-style converters run in the real sandbox. One device per Kafka key. Each message's
// telemetry row gets its own timestamp (second n) plus the conversion time's milliseconds: a
// message stored twice would (almost surely) be a second row, so "rows === messages" proves every
// message was stored and none twice.
const UPLINK = `
  var data = decodeToJson(payload);
  if (data.bad) throw new Error('bad payload at offset ' + metadata.offset);
  var ts = 1700000000000 + data.n * 1000 + (Date.now() % 1000);
  return { deviceName: metadata.key, deviceType: 'kafka-e2e', telemetry: { ts: ts, values: { n: data.n } } };
`;
const DOWNLINK = `
  return {
    contentType: 'JSON',
    data: JSON.stringify({ method: msg.method, params: msg.params }),
    metadata: { topic: integrationMetadata.commandTopic, key: metadata.deviceName, method: msg.method }
  };
`;

let dir = '';
const hosts: HostProcess[] = [];

beforeAll(async () => {
  await ensureBroker();
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-kafka-e2e-'));
}, 180_000);

/** On failure, shows what the hosts logged last (warnings and errors first). */
async function withLogs<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    for (const h of hosts) {
      const lines = process.env.KAFKA_E2E_ALL_LOGS
        ? h.logs
        : h.logs
            .filter((l) => /"level":(40|50|60)/.test(l))
            .slice(-15)
            .concat(h.logs.slice(-10));
      process.stderr.write(`--- host ${h.url} ---\n${lines.join('\n')}\n`);
    }
    throw error;
  }
}

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
}, 60_000);

function kafkaIntegration(name: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { name, type: 'kafka', config: { bootstrapServers: PLAINTEXT, ...config }, uplinkConverter: { inline: UPLINK }, ...extra };
}

async function startHost(dataDir: string, integrations: unknown[], env: Record<string, string> = {}, level = 'info'): Promise<HostProcess> {
  const host = await startHostProcess({
    dir: await mkdtemp(path.join(dir, 'host-')),
    env,
    token: TOKEN,
    config: { http: {}, auth: { token: TOKEN }, dataDir, plugins: [PLUGIN_DIR], log: { level }, shutdownGraceMs: 20_000, integrations },
  });
  hosts.push(host);
  return host;
}

/** Telemetry rows of key `n` stored for devices whose name starts with `prefix` (read-only). */
const storedRows = (dataDir: string, prefix: string): number => storedTelemetry(dataDir, 'n', { prefix }).length;

/** Distinct `n` values stored for devices starting with `prefix`. */
const storedValues = (dataDir: string, prefix: string): Set<number> => new Set(storedTelemetry(dataDir, 'n', { prefix }));

/** `count` messages `{"n": from+i}` keyed `<prefix>-<i % devices>`. */
function messages(prefix: string, count: number, from = 0, devices = 20) {
  return numbered(count, devices, from).map((r) => ({ ...r, key: `${prefix}-${r.key}` }));
}

describe('kafka integration in a real host', { timeout: 240_000 }, () => {
  it('consumes several partitions from earliest, latest only what is new, dead-letters and sends downlinks', async () => {
    const early = unique('e2e-early');
    const late = unique('e2e-late');
    const dlq = unique('e2e-dlq');
    const commands = unique('e2e-cmd');
    await Promise.all([createTopic(early, 3), createTopic(late, 2), createTopic(dlq, 1), createTopic(commands, 3)]);
    await produce(early, messages('early', 600));
    await produce(late, messages('late', 40));
    await produce(early, [{ key: 'early-bad', value: JSON.stringify({ n: -1, bad: true }) }]);
    const dataDir = path.join(dir, 'basic');
    const host = await startHost(dataDir, [
      kafkaIntegration(
        'early',
        { uplink: { topics: [early], autoOffsetReset: 'earliest', deadLetterTopic: dlq } },
        {
          downlinkConverter: { inline: DOWNLINK },
          metadata: { commandTopic: commands },
        },
      ),
      kafkaIntegration('late', { uplink: { topics: [late], autoOffsetReset: 'latest' } }),
    ]);
    await withLogs(() => waitFor(() => storedRows(dataDir, 'early-') === 600, 90_000, '600 early rows'));
    // The failed conversion went to the dead-letter topic with its error.
    const [dead] = await readTopic(dlq, 1);
    expect(dead!.value).toContain('"bad":true');
    expect(dead!.headers.get(DLQ_HEADERS.className)).toBe('tbi.ConverterError.THREW');
    expect(dead!.headers.get(DLQ_HEADERS.message)).toContain('bad payload at offset');
    expect(dead!.headers.get(DLQ_HEADERS.connector)).toBe('early');

    // latest: the 40 produced before the group existed are skipped.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await produce(late, messages('late', 25, 1000));
    await withLogs(() => waitFor(() => storedRows(dataDir, 'late-') === 25, 60_000, '25 late rows'));
    expect(Math.min(...storedValues(dataDir, 'late-'))).toBe(1000);

    // Downlink: a one-way RPC to a device carried by `early` becomes a record keyed by the device.
    const res = await fetch(`${host.url}/api/devices/early-dev-3/rpc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'setValve', params: { open: true }, oneway: true }),
    });
    expect(res.status).toBeLessThan(300);
    const [command] = await readTopic(commands, 1);
    expect(command!.key).toBe('early-dev-3');
    expect(JSON.parse(command!.value)).toEqual({ method: 'setValve', params: { open: true } });
    expect(command!.headers.get('method')).toBe('setValve');
    await withLogs(() => waitFor(async () => (await committedOffsets('tbi-early', early, 3)).reduce((a, b) => a + b, 0n) === 601n, 30_000, 'all committed'));
  });

  it('consumes over SASL/SCRAM (password from the environment) and over SSL', async () => {
    const scram = unique('e2e-scram');
    const ssl = unique('e2e-ssl');
    await Promise.all([createTopic(scram, 2), createTopic(ssl, 2)]);
    await produce(scram, messages('scram', 100));
    await produce(ssl, messages('ssl', 100));
    const dataDir = path.join(dir, 'secure');
    const host = await startHost(
      dataDir,
      [
        kafkaIntegration('scram', {
          bootstrapServers: SASL,
          securityProtocol: 'SASL_PLAINTEXT',
          sasl: { mechanism: 'SCRAM-SHA-512', username: 'tbi', password: '${env:E2E_KAFKA_PASSWORD}' },
          uplink: { topics: [scram] },
        }),
        kafkaIntegration('ssl', { bootstrapServers: SSL, securityProtocol: 'SSL', ssl: { ca: path.join(SSL_DIR, 'ca.pem') }, uplink: { topics: [ssl] } }),
      ],
      { E2E_KAFKA_PASSWORD: 'tbi-secret' },
    );
    await withLogs(() => waitFor(() => storedRows(dataDir, 'scram-') === 100 && storedRows(dataDir, 'ssl-') === 100, 60_000, 'scram and ssl rows'));
    expect(host.logs.join('\n')).not.toContain('tbi-secret');
    expect(caPem()).toContain('BEGIN CERTIFICATE');
  });

  it('two hosts in one group share the partitions and store every message once', async () => {
    const topic = unique('e2e-group');
    await createTopic(topic, 4);
    const a = path.join(dir, 'group-a');
    const b = path.join(dir, 'group-b');
    const integration = kafkaIntegration('grouped', {
      uplink: { topics: [topic], groupId: unique('e2e-g'), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 },
    });
    await Promise.all([startHost(a, [integration]), startHost(b, [integration])]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await produce(topic, messages('grp', 800, 0, 40));
    const total = () => storedRows(a, 'grp-') + storedRows(b, 'grp-');
    await withLogs(() => waitFor(() => total() === 800, 90_000, '800 rows over both hosts'));
    expect(storedRows(a, 'grp-')).toBeGreaterThan(0);
    expect(storedRows(b, 'grp-')).toBeGreaterThan(0);
    const both = new Set([...storedValues(a, 'grp-'), ...storedValues(b, 'grp-')]);
    expect(both.size).toBe(800);
  });
});

describe('a kafka integration that cannot consume yet, in a real host', { timeout: 120_000 }, () => {
  it('reports a missing topic and unreachable brokers in /api/integrations, then stores once the topic exists', async () => {
    const topic = unique('e2e-not-yet');
    const dataDir = path.join(dir, 'waiting');
    const started = Date.now();
    const host = await startHost(dataDir, [
      kafkaIntegration('waiting', { uplink: { topics: [topic] } }),
      kafkaIntegration('unreachable', { bootstrapServers: '127.0.0.1:1', uplink: { topics: [topic] } }),
    ]);
    expect(Date.now() - started).toBeLessThan(15_000); // the host used to wait 15 s for the unreachable one alone
    const health = async (name: string) => (await host.api(`/integrations/${name}`)).body as { state: string; health: { status: string; detail?: string } };
    expect(await health('waiting')).toMatchObject({
      state: 'running',
      health: { status: 'degraded', detail: expect.stringMatching(new RegExp(`^waiting for topic ${topic} to exist; retrying in \\d+ s$`)) },
    });
    expect(await health('unreachable')).toMatchObject({
      state: 'running',
      health: { status: 'down', detail: expect.stringMatching(/^cannot reach Kafka at 127\.0\.0\.1:1 \(ECONNREFUSED\); retrying in \d+ s$/) },
    });
    expect((await fetch(`${host.url}/readyz`)).status).toBe(503);
    await produce(topic, messages('waiting', 10)); // the broker creates the topic for the producer
    await withLogs(() => waitFor(() => storedRows(dataDir, 'waiting-') === 10, 60_000, '10 rows'));
    expect((await health('waiting')).health.status).toBe('up');
  });
});

describe('nothing lost, nothing stored twice', { timeout: 300_000 }, () => {
  it('a host killed with SIGKILL mid-stream and restarted stores every message exactly once', async () => {
    const topic = unique('e2e-kill');
    await createTopic(topic, 3);
    const total = 6000;
    const dataDir = path.join(dir, 'kill');
    const integration = kafkaIntegration('killed', {
      uplink: { topics: [topic], groupId: unique('e2e-kill-g'), maxPollRecords: 200, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 },
    });
    const first = await startHost(dataDir, [integration], {}, 'debug');
    // Produced live, 100 records every 100 ms, so the kill lands mid-stream whatever the speed.
    const producer = testProducer();
    const sending = (async () => {
      for (let i = 0; i < total; i += 100) {
        await producer.send(topic, messages('kill', 100, i));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    sending.catch(() => {}); // awaited below
    await withLogs(() => waitFor(() => storedRows(dataDir, 'kill-') >= 1500, 90_000, 'a part stored'));
    await first.kill();
    const before = storedRows(dataDir, 'kill-');
    await startHost(dataDir, [integration], {}, 'debug');
    await sending;
    await producer.close();
    expect(before).toBeLessThan(total);
    await withLogs(() => waitFor(() => storedRows(dataDir, 'kill-') === total, 120_000, `${total} rows`));
    // Redelivered messages (stored but not committed before the kill) were skipped, not doubled.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(storedRows(dataDir, 'kill-')).toBe(total);
    expect(storedValues(dataDir, 'kill-').size).toBe(total);
  });

  it('survives the platform failing for a while: consumption waits, then everything is stored once', async () => {
    const topic = unique('e2e-platform');
    await createTopic(topic, 2);
    const dataDir = path.join(dir, 'platform-down');
    await startHost(dataDir, [kafkaIntegration('flaky', { uplink: { topics: [topic] } })]);
    await produce(topic, messages('flaky', 200));
    await withLogs(() => waitFor(() => storedRows(dataDir, 'flaky-') === 200, 60_000, 'first 200'));
    // Hold the database's write lock from outside: every write fails (SQLITE_BUSY, retryable).
    const db = new DatabaseSync(path.join(dataDir, 'platform.db'));
    db.exec('BEGIN IMMEDIATE');
    try {
      await produce(topic, messages('flaky', 800, 200));
      await new Promise((resolve) => setTimeout(resolve, 5000));
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    await withLogs(() => waitFor(() => storedRows(dataDir, 'flaky-') === 1000, 90_000, '1000 rows after the outage'));
    expect(storedValues(dataDir, 'flaky-').size).toBe(1000);
  });

  it('survives a broker restart mid-stream (a private broker on other ports)', async () => {
    const { env, plaintext } = kafkaListeners('TBI_KAFKA_RESTART_PORT_BASE', 'e2e-restart');
    await brokerScript('start', env);
    const brokers = [plaintext];
    try {
      const topic = unique('e2e-bounce');
      await createTopic(topic, 2, brokers);
      const dataDir = path.join(dir, 'bounce');
      await startHost(dataDir, [
        kafkaIntegration('bounce', { bootstrapServers: brokers[0], uplink: { topics: [topic], sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 } }),
      ]);
      // Retries for up to a minute: the producer waits out the broker restart.
      const producer = testProducer(brokers, 120);
      const total = 3000;
      const sending = (async () => {
        for (let i = 0; i < total; i += 100) {
          await producer.send(topic, messages('bounce', 100, i));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      sending.catch(() => {}); // awaited below; no unhandled rejection while the broker restarts
      await withLogs(() => waitFor(() => storedRows(dataDir, 'bounce-') >= 500, 60_000, 'some stored before the restart'));
      await brokerScript('restart', env);
      await sending;
      await producer.close();
      await withLogs(() => waitFor(() => storedRows(dataDir, 'bounce-') === total, 180_000, `${total} rows after the broker restart`));
      expect(storedValues(dataDir, 'bounce-').size).toBe(total);
    } finally {
      await brokerScript('stop', env);
    }
  });
});
