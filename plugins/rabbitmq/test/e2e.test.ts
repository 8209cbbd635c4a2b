// End to end: real `tbi start` processes (built host + this plugin's dist, loaded by path) with the
// real sandbox and the embedded platform, against the real RabbitMQ node of
// scripts/brokers/rabbitmq.sh. Needs `pnpm build` first (scripts/test.sh does it).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startHostProcess, type HostProcess } from '@tbi/plugin-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AMQP_PORT,
  AMQPS_PORT,
  brokerScript,
  CERTS,
  deleteQueues,
  numbered,
  PLUGIN_DIR,
  publish,
  readyCount,
  storedRows,
  storedValues,
  take,
  unique,
  waitFor,
  withChannel,
  withHostLogs,
} from './harness.js';

const TOKEN = 'rabbitmq-e2e-token-0123456789';
const PASSWORD_ENV = { E2E_AMQP_PASSWORD: 'tbi-secret', E2E_AMQP_AUTH_PASSWORD: 'tbi-auth-secret' };

// ThingsBoard-style converter in the real sandbox: device `<p>-<n % 20>`, one telemetry row per
// message with its own timestamp (a message stored twice would be a second row); with `meta`, the
// connector's metadata as attributes.
const UPLINK = `
  var data = decodeToJson(payload);
  if (data.bad) throw new Error('bad payload ' + metadata.messageId);
  var ts = 1700000000000 + data.n * 1000 + (Date.now() % 1000);
  var out = { deviceName: data.p + '-' + (data.meta ? data.n : data.n % 20), deviceType: 'amqp-e2e', telemetry: { ts: ts, values: { n: data.n } } };
  if (data.meta) out.attributes = { exchange: metadata.exchange, routingKey: metadata.routingKey, queue: metadata.queue,
    site: metadata.site || '', messageId: metadata.messageId || '', contentType: metadata.contentType || '', deliveryCount: metadata.deliveryCount };
  return out;
`;
const DOWNLINK = `
  return {
    contentType: 'JSON',
    data: JSON.stringify({ method: msg.method, params: msg.params }),
    metadata: { method: msg.method, correlationId: metadata.requestUUID || 'none' }
  };
`;

let dir = '';
const hosts: HostProcess[] = [];

beforeAll(async () => {
  await brokerScript('start');
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-rabbitmq-e2e-'));
}, 240_000);

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
}, 60_000);

const withLogs = <T>(run: () => Promise<T>) => withHostLogs(hosts, run);

function integration(name: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    name,
    type: 'rabbitmq',
    config: { host: '127.0.0.1', port: AMQP_PORT, username: 'tbi', password: '${env:E2E_AMQP_PASSWORD}', ...config },
    uplinkConverter: { inline: UPLINK },
    ...extra,
  };
}

async function startHost(dataDir: string, integrations: unknown[], level = 'info'): Promise<HostProcess> {
  const host = await startHostProcess({
    dir: await mkdtemp(path.join(dir, 'host-')),
    env: PASSWORD_ENV,
    token: TOKEN,
    config: { http: {}, auth: { token: TOKEN }, dataDir, plugins: [PLUGIN_DIR], log: { level }, shutdownGraceMs: 20_000, integrations },
  });
  hosts.push(host);
  return host;
}

async function health(host: HostProcess, name: string): Promise<{ state: string; health: { status: string; detail?: string }; error?: string }> {
  return (await host.api(`/integrations/${name}`)).body;
}

/**
 * The status of an integration that cannot start, read while it is `failed`: the host restarts
 * it with backoff, so a single read may land in one of its `starting` attempts.
 */
async function failed(host: HostProcess, name: string): ReturnType<typeof health> {
  let last = await health(host, name);
  await withLogs(() => waitFor(async () => (last = await health(host, name)).state === 'failed', 30_000, `${name} failed`));
  return last;
}

async function attributes(host: HostProcess, device: string): Promise<Record<string, unknown>> {
  const body = (await host.api(`/devices/${device}/attributes/client`)).body as Array<{ key: string; value: unknown }>;
  return Object.fromEntries((Array.isArray(body) ? body : []).map((a) => [a.key, a.value]));
}

describe('rabbitmq integration in a real host', { timeout: 240_000 }, () => {
  it('each exchange type routes to the integration’s queue; the converter sees exchange, routing key, queue, headers and properties', async () => {
    const p = unique('route');
    const q = `${p}-q`;
    const x = (t: string) => `${p}-${t}`;
    const dataDir = path.join(dir, 'route');
    const host = await startHost(dataDir, [
      integration('route', {
        uplink: { queues: [q] },
        topology: {
          exchanges: ['direct', 'topic', 'fanout', 'headers'].map((type) => ({ name: x(type), type, autoDelete: true })),
          queues: [{ name: q }],
          bindings: [
            { exchange: x('direct'), queue: q, routingKey: 'exact' },
            { exchange: x('topic'), queue: q, routingKey: 'sensors.*.temp' },
            { exchange: x('fanout'), queue: q },
            { exchange: x('headers'), queue: q, arguments: { 'x-match': 'all', site: 'north' } },
          ],
        },
      }),
    ]);
    await withLogs(() => waitFor(async () => (await health(host, 'route')).health.status === 'up', 30_000, 'route up'));
    const msg = (n: number) => ({ body: JSON.stringify({ p, n, meta: true }), messageId: `m-${n}` });
    await publish(x('direct'), 'exact', [msg(1)]);
    await publish(x('direct'), 'other', [msg(101)]); // not routed
    await publish(x('topic'), 'sensors.b7.temp', [msg(2)]);
    await publish(x('topic'), 'sensors.b7.humidity', [msg(102)]); // not routed
    await publish(x('fanout'), 'anything', [msg(3)]);
    await publish(x('headers'), '', [{ ...msg(4), headers: { site: 'north' } }]);
    await publish(x('headers'), '', [{ ...msg(104), headers: { site: 'south' } }]); // not routed
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) >= 4, 30_000, 'four routed messages'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(storedValues(dataDir, `${p}-`).sort()).toEqual([1, 2, 3, 4]);
    expect(await attributes(host, `${p}-2`)).toMatchObject({
      exchange: x('topic'),
      routingKey: 'sensors.b7.temp',
      queue: q,
      messageId: 'm-2',
      contentType: 'application/json',
      deliveryCount: '1',
    });
    expect(await attributes(host, `${p}-4`)).toMatchObject({ exchange: x('headers'), site: 'north' });
    expect(host.logs.join('\n')).not.toContain('tbi-secret');
    expect(await readyCount(q)).toBe(0);
    await deleteQueues(q);
  });

  it('keeps at most `prefetch` deliveries unacknowledged while the platform cannot store, then stores everything once', async () => {
    const p = unique('prefetch');
    const q = `${p}-q`;
    const dataDir = path.join(dir, 'prefetch');
    const host = await startHost(dataDir, [integration('prefetch', { uplink: { queues: [q], prefetch: 20 }, topology: { queues: [{ name: q }] } })]);
    await withLogs(() => waitFor(async () => (await health(host, 'prefetch')).health.status === 'up', 30_000, 'up'));
    // The queue is declared but bound to nothing: the start says so.
    expect(host.logs.join('\n')).toContain(`queue \\"${q}\\" is not bound to any exchange by this integration`);
    await publish('', q, numbered(p, 10));
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) === 10, 30_000, 'first 10'));
    // Hold the database's write lock from outside: every write fails (SQLITE_BUSY, retryable).
    const db = new DatabaseSync(path.join(dataDir, 'platform.db'));
    db.exec('BEGIN IMMEDIATE');
    try {
      await publish('', q, numbered(p, 300, 10));
      await waitFor(async () => (await readyCount(q)) === 280, 30_000, '280 ready, 20 delivered');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(await readyCount(q)).toBe(280);
      expect(await host.metric('tbi_rabbitmq_unacked_messages')).toBe(20);
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) === 310, 60_000, '310 rows'));
    expect(storedValues(dataDir, `${p}-`).length).toBe(310);
    await deleteQueues(q);
  });

  it('consumes a quorum queue and a stream queue; a restarted host resumes the stream after what it stored', async () => {
    const p = unique('qs');
    const quorum = `${p}-quorum`;
    const stream = `${p}-stream`;
    const dataDir = path.join(dir, 'quorum-stream');
    await publish('', 'nothing-yet', []); // broker reachable
    const config = {
      uplink: { queues: [quorum, stream], prefetch: 50 },
      topology: {
        queues: [
          { name: quorum, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 } },
          { name: stream, arguments: { 'x-queue-type': 'stream' } },
        ],
      },
    };
    let host = await startHost(dataDir, [integration('qs', config)]);
    await withLogs(() => waitFor(async () => (await health(host, 'qs')).health.status === 'up', 30_000, 'up'));
    await publish('', quorum, numbered(`${p}q`, 300));
    await publish('', stream, numbered(`${p}s`, 300));
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}q-`) === 300 && storedRows(dataDir, `${p}s-`) === 300, 60_000, '300 + 300'));
    expect(await host.stop()).toBe(0);
    await publish('', stream, numbered(`${p}s`, 100, 300));
    host = await startHost(dataDir, [integration('qs', config)]);
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}s-`) >= 400, 60_000, '400 stream rows'));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(storedRows(dataDir, `${p}s-`)).toBe(400); // nothing of the first 300 read again and stored twice
    expect(storedValues(dataDir, `${p}s-`).length).toBe(400);
    expect(storedRows(dataDir, `${p}q-`)).toBe(300);
    await deleteQueues(quorum, stream);
  });

  it('connects over TLS and with a second user on its own vhost; reports refused logins, vhosts and certificates clearly', async () => {
    const p = unique('sec');
    const tlsQ = `${p}-tls`;
    const authQ = `${p}-auth`;
    const dataDir = path.join(dir, 'secure');
    const host = await startHost(dataDir, [
      integration('tls', { port: AMQPS_PORT, tls: { ca: path.join(CERTS, 'ca.crt') }, uplink: { queues: [tlsQ] }, topology: { queues: [{ name: tlsQ }] } }),
      // Mutual TLS: the node verifies client certificates that are sent (verify_peer).
      integration('mtls', {
        url: `amqps://tbi@127.0.0.1:${AMQPS_PORT}/%2F`,
        port: AMQPS_PORT, // the helper's default port would win over the URL's
        tls: { ca: path.join(CERTS, 'ca.crt'), cert: path.join(CERTS, 'client.crt'), key: path.join(CERTS, 'client.key') },
        uplink: { queues: [`${tlsQ}-m`] },
        topology: { queues: [{ name: `${tlsQ}-m` }] },
      }),
      integration('vhost-user', {
        username: 'tbi-auth',
        password: '${env:E2E_AMQP_AUTH_PASSWORD}',
        virtualHost: 'tbi-auth',
        uplink: { queues: [authQ] },
        topology: { queues: [{ name: authQ }] },
      }),
      integration('bad-password', { password: 'wrong-password', uplink: { queues: ['unused'] } }),
      integration('bad-vhost', { username: 'tbi-auth', password: '${env:E2E_AMQP_AUTH_PASSWORD}', virtualHost: '/', uplink: { queues: ['unused'] } }),
      integration('bad-ca', { port: AMQPS_PORT, tls: {}, uplink: { queues: ['unused'] } }),
    ]);
    await withLogs(() =>
      waitFor(
        async () => (await Promise.all(['tls', 'mtls', 'vhost-user'].map((n) => health(host, n)))).every((h) => h.health.status === 'up'),
        30_000,
        'tls, mtls and vhost-user up',
      ),
    );
    await publish('', tlsQ, numbered(`${p}t`, 20));
    await publish('', `${tlsQ}-m`, numbered(`${p}m`, 5));
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}m-`) === 5, 30_000, 'mtls rows'));
    await publish('', authQ, numbered(`${p}a`, 20), `amqp://tbi-auth:tbi-auth-secret@127.0.0.1:${AMQP_PORT}/tbi-auth`);
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}t-`) === 20 && storedRows(dataDir, `${p}a-`) === 20, 30_000, 'tls and vhost rows'));

    const badPassword = await failed(host, 'bad-password');
    expect(badPassword.state).toBe('failed');
    expect(badPassword.error).toMatch(new RegExp(`127\\.0\\.0\\.1:${AMQP_PORT}, vhost "/", user "tbi" refused the login`));
    const badVhost = await failed(host, 'bad-vhost');
    expect(badVhost.state).toBe('failed');
    expect(badVhost.error).toMatch(/vhost "\/", user "tbi-auth" refused access to the vhost/);
    const badCa = await health(host, 'bad-ca');
    expect(badCa.health.status).toBe('degraded');
    expect(badCa.health.detail).toMatch(
      new RegExp(`amqps://127\\.0\\.0\\.1:${AMQPS_PORT}, vhost "/", user "tbi" could not be reached over TLS: .*certificate`),
    );
    const logs = host.logs.join('\n');
    expect(logs).not.toContain('tbi-secret');
    expect(logs).not.toContain('wrong-password');
    await deleteQueues(tlsQ, `${tlsQ}-m`);
  });

  // A queue without a DLX (the host's dead letters) is the conformance suite's dead-letter case.
  it('rejects a message whose conversion fails to the queue’s DLX and goes on', async () => {
    const p = unique('dlx');
    const q = `${p}-q`;
    const dlq = `${p}-dlq`;
    const dataDir = path.join(dir, 'dlx');
    const host = await startHost(dataDir, [
      integration('dlx', {
        uplink: { queues: [q] },
        topology: {
          exchanges: [{ name: `${p}-dlx`, type: 'fanout' }],
          queues: [{ name: dlq }, { name: q, arguments: { 'x-dead-letter-exchange': `${p}-dlx` } }],
          bindings: [{ exchange: `${p}-dlx`, queue: dlq }],
        },
      }),
    ]);
    await withLogs(() => waitFor(async () => (await health(host, 'dlx')).health.status === 'up', 30_000, 'up'));
    await publish('', q, [...numbered(p, 5), { body: JSON.stringify({ p, n: 99, bad: true }), messageId: 'poison-1' }, ...numbered(p, 5, 5)]);
    const [dead] = await take(dlq, 1);
    expect(dead).toBeDefined();
    expect(JSON.parse(dead!.content.toString())).toMatchObject({ n: 99, bad: true });
    expect(dead!.properties.messageId).toBe('poison-1');
    const death = (dead!.properties.headers!['x-death'] as Array<{ queue: string; reason: string }>)[0]!;
    expect(death).toMatchObject({ queue: q, reason: 'rejected' });
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) === 10, 30_000, 'the 10 good ones'));
    expect((await host.api('/dead-letters')).body).toMatchObject({ items: [] }); // the broker has it, not the host
    expect(await readyCount(q)).toBe(0);
    await deleteQueues(q, dlq);
  });

  it('moves a message redelivered more than maxDeliveries times (x-delivery-count, quorum) to the dead letters unconverted', async () => {
    const p = unique('poison');
    const q = `${p}-q`;
    await withChannel(async (ch) => {
      await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    });
    await publish('', q, [{ body: JSON.stringify({ p, n: 1 }), messageId: 'looping' }]);
    // Deliver the first message and give it back three times, as crashing hosts would.
    await withChannel(async (ch) => {
      for (let i = 0; i < 3; i++) {
        const m = await ch.get(q, { noAck: false });
        if (m === false || m.properties.messageId !== 'looping') throw new Error('expected the looping message first');
        ch.nack(m, false, true);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    await publish('', q, numbered(p, 3, 10));
    const dataDir = path.join(dir, 'poison');
    const host = await startHost(dataDir, [
      integration('poison', { uplink: { queues: [q], maxDeliveries: 3 }, topology: { queues: [{ name: q, arguments: { 'x-queue-type': 'quorum' } }] } }),
    ]);
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) === 3, 30_000, 'the three others'));
    await withLogs(() =>
      waitFor(
        async () => JSON.stringify((await host.api('/dead-letters')).body).includes('delivered 4 times'),
        30_000,
        'the poison message in the dead letters',
      ),
    );
    expect(storedValues(dataDir, `${p}-`).sort((a, b) => a - b)).toEqual([10, 11, 12]); // n: 1 was never converted
    await waitFor(async () => (await readyCount(q)) === 0, 10_000, 'queue empty');
    await deleteQueues(q);
  });

  it('publishes a downlink with confirms to the configured exchange and routing key template; an unroutable one fails', async () => {
    const p = unique('down');
    const q = `${p}-up`;
    const commands = `${p}-commands`;
    const dataDir = path.join(dir, 'down');
    const host = await startHost(dataDir, [
      integration(
        'down',
        {
          uplink: { queues: [q] },
          topology: {
            exchanges: [{ name: `${p}-cmd`, type: 'topic' }],
            queues: [{ name: q }, { name: commands }],
            bindings: [{ exchange: `${p}-cmd`, queue: commands, routingKey: `commands.${p}-1` }],
          },
          downlink: { exchange: `${p}-cmd`, routingKey: 'commands.${deviceName}' },
        },
        { downlinkConverter: { inline: DOWNLINK } },
      ),
    ]);
    await withLogs(() => waitFor(async () => (await health(host, 'down')).health.status === 'up', 30_000, 'up'));
    await publish('', q, [{ body: JSON.stringify({ p, n: 1 }) }, { body: JSON.stringify({ p, n: 2 }) }]);
    await withLogs(() => waitFor(() => storedRows(dataDir, `${p}-`) === 2, 30_000, 'devices known'));
    const rpc = (device: string) =>
      fetch(`${host.url}/api/devices/${device}/rpc`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ method: 'setValve', params: { open: true }, oneway: true }),
      });
    const ok = await rpc(`${p}-1`);
    expect(ok.status).toBeLessThan(300);
    const [command] = await take(commands, 1);
    expect(JSON.parse(command!.content.toString())).toEqual({ method: 'setValve', params: { open: true } });
    expect(command!.fields.routingKey).toBe(`commands.${p}-1`);
    expect(command!.properties).toMatchObject({ deliveryMode: 2, contentType: 'application/json', headers: expect.objectContaining({ method: 'setValve' }) });
    // Nothing is bound for device 2's routing key: the broker returns it, and the RPC fails.
    expect((await rpc(`${p}-2`)).status).toBeLessThan(300); // one-way: accepted, then delivered or failed
    let failed: Array<{ error?: string }> = [];
    await withLogs(() =>
      waitFor(
        async () => (failed = (await host.api(`/devices/${p}-2/commands?status=failed`)).body as typeof failed).length === 1,
        30_000,
        'the command failed',
      ),
    );
    expect(failed[0]!.error).toContain(`unroutable: no queue is bound to exchange "${p}-cmd" for routing key "commands.${p}-2"`);
    expect(await readyCount(commands)).toBe(0);
    await deleteQueues(q, commands);
  });

  it('two hosts on one queue (competing consumers) store every message once between them', async () => {
    const p = unique('compete');
    const q = `${p}-q`;
    const a = path.join(dir, 'compete-a');
    const b = path.join(dir, 'compete-b');
    const config = integration('compete', { uplink: { queues: [q], prefetch: 20 }, topology: { queues: [{ name: q }] } });
    const [ha, hb] = await Promise.all([startHost(a, [config]), startHost(b, [config])]);
    for (const h of [ha, hb]) await withLogs(() => waitFor(async () => (await health(h, 'compete')).health.status === 'up', 30_000, 'up'));
    await publish('', q, numbered(p, 2000));
    const total = () => storedRows(a, `${p}-`) + storedRows(b, `${p}-`);
    await withLogs(() => waitFor(() => total() === 2000, 90_000, '2000 rows over both hosts'));
    expect(storedRows(a, `${p}-`)).toBeGreaterThan(0);
    expect(storedRows(b, `${p}-`)).toBeGreaterThan(0);
    expect(new Set([...storedValues(a, `${p}-`), ...storedValues(b, `${p}-`)]).size).toBe(2000);
    await deleteQueues(q);
  });
});
