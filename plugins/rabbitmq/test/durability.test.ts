// Nothing lost, nothing stored twice: at least 10,000 messages through real hosts while the host
// is killed, the broker restarts and the platform fails. Every message is counted in the host's
// SQLite database. Needs `pnpm build` first (scripts/test.sh does it).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startHostProcess, type HostProcess } from '@tbi/plugin-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rabbitmqPorts } from '../../../scripts/ports.mjs';
import {
  AMQP_PORT,
  brokerScript,
  deleteQueues,
  numbered,
  PLUGIN_DIR,
  publish,
  publishResilient,
  storedRows,
  storedValues,
  unique,
  waitFor,
  withHostLogs,
} from './harness.js';

const TOKEN = 'rabbitmq-durability-token-0123456789';
const TOTAL = 10_000;
// A private node for the restart test, so other test files keep their broker.
const RESTART = rabbitmqPorts('TBI_RABBITMQ_RESTART_PORT_BASE', 'e2e-restart');
const RESTART_ENV = RESTART.env;
const RESTART_URL = `amqp://tbi:tbi-secret@127.0.0.1:${RESTART.amqp}`;

const UPLINK = `
  var data = decodeToJson(payload);
  var ts = 1700000000000 + data.n * 1000 + (Date.now() % 1000);
  return { deviceName: data.p + '-' + (data.n % 20), deviceType: 'amqp-e2e', telemetry: { ts: ts, values: { n: data.n } } };
`;

let dir = '';
const hosts: HostProcess[] = [];

beforeAll(async () => {
  await brokerScript('start');
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-rabbitmq-durability-'));
}, 240_000);

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
}, 60_000);

const withLogs = <T>(run: () => Promise<T>) => withHostLogs(hosts, run);

/** Publishers set unique message ids, so a redelivery after a crash is recognised and stored once. */
function integration(queue: string, port = AMQP_PORT) {
  return {
    name: 'durable',
    type: 'rabbitmq',
    config: {
      host: '127.0.0.1',
      port,
      username: 'tbi',
      password: 'tbi-secret',
      reconnect: { initialDelayMs: 200, maxDelayMs: 2000 },
      uplink: { queues: [queue], prefetch: 50, messageIdIsUnique: true },
      topology: { queues: [{ name: queue, durable: true }] },
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

describe('nothing lost, nothing stored twice', { timeout: 400_000 }, () => {
  it(`a host killed with SIGKILL mid-stream and restarted stores all ${TOTAL} messages exactly once`, async () => {
    const p = unique('kill');
    const q = `${p}-q`;
    const dataDir = path.join(dir, 'kill');
    const first = await startHost(dataDir, [integration(q)]);
    await withLogs(() => waitFor(up(first), 30_000, 'up'));
    // Published live, 100 every 20 ms, so the kill lands mid-stream whatever the speed.
    const sending = publishResilient('', q, numbered(p, TOTAL), undefined, 20);
    sending.catch(() => {});
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) >= 2500, 120_000, 'a part stored'));
    await first.kill();
    const before = storedRows(dataDir, `${p}-`);
    const second = await startHost(dataDir, [integration(q)]);
    await sending;
    expect(before).toBeLessThan(TOTAL);
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) >= TOTAL, 180_000, `${TOTAL} rows`));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(storedRows(dataDir, `${p}-`)).toBe(TOTAL);
    expect(storedValues(dataDir, `${p}-`).length).toBe(TOTAL);
    // The redelivered messages that were stored before the kill were recognised, not doubled.
    expect(await second.metric('tbi_rabbitmq_messages_acked_total')).toBeGreaterThanOrEqual(TOTAL - before);
    await deleteQueues(q);
  });

  it(`survives the platform failing for a while: deliveries wait unacknowledged, then all ${TOTAL} are stored once`, async () => {
    const p = unique('platform');
    const q = `${p}-q`;
    const dataDir = path.join(dir, 'platform-down');
    const host = await startHost(dataDir, [integration(q)]);
    await withLogs(() => waitFor(up(host), 30_000, 'up'));
    await publish('', q, numbered(p, 200));
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) === 200, 60_000, 'first 200'));
    // Hold the database's write lock from outside: every write fails (SQLITE_BUSY, retryable).
    const db = new DatabaseSync(path.join(dataDir, 'platform.db'));
    db.exec('BEGIN IMMEDIATE');
    try {
      await publish('', q, numbered(p, TOTAL - 200, 200));
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
    await deleteQueues(q);
  });

  it(`survives a broker restart mid-stream (a private node): all ${TOTAL} stored once`, async () => {
    await brokerScript('start', RESTART_ENV);
    try {
      const p = unique('bounce');
      const q = `${p}-q`;
      const dataDir = path.join(dir, 'bounce');
      const host = await startHost(dataDir, [integration(q, RESTART.amqp)]);
      await withLogs(() => waitFor(up(host), 30_000, 'up'));
      const sending = publishResilient('', q, numbered(p, TOTAL), RESTART_URL, 20);
      sending.catch(() => {});
      await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) >= 2000, 120_000, 'some stored before the restart'));
      await brokerScript('restart', RESTART_ENV);
      await sending;
      await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) >= TOTAL, 240_000, `${TOTAL} rows after the broker restart`));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(storedRows(dataDir, `${p}-`)).toBe(TOTAL);
      expect(storedValues(dataDir, `${p}-`).length).toBe(TOTAL);
      expect(await host.metric('tbi_rabbitmq_reconnects_total')).toBeGreaterThan(0);
      await withLogs(() => waitFor(up(host), 30_000, 'up again'));
    } finally {
      await brokerScript('stop', RESTART_ENV);
    }
  });
});
