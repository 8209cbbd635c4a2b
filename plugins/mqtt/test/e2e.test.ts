// End to end: real `tbi start` processes (built host + this plugin's dist, loaded by path) with
// the real converter sandbox and the embedded platform (SQLite), against a private real
// Mosquitto instance (this file restarts it). Counts are read back from the platform's REST API.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { broker, CERTS, publishMany } from './broker.js';
import { eventually, uniquePrefix } from './harness.js';
import { startHostProcess, storedTelemetry, type HostProcess } from '@tbi/plugin-testkit';
import { mosquittoPorts } from '../../../scripts/ports.mjs';

const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');

const TOKEN = 'e2e-control-token-0123456789';
const PORTS = mosquittoPorts('TBI_MQTT_E2E_PORT_BASE');
const mosquitto = broker('e2e', PORTS);
const TS0 = 1_700_000_000_000;

// Telemetry `seq` at ts = TS0 + seq: a redelivered message rewrites the same row, so the number
// of rows is the number of distinct messages stored.
const UPLINK = `
  var data = decodeToJson(payload);
  return {
    deviceName: metadata.deviceName || data.device || 'unnamed',
    deviceType: metadata.deviceType || 'e2e',
    attributes: { lastTopic: metadata.topic, qos: metadata.qos, site: metadata['userProperty:site'] || '' },
    telemetry: { ts: ${TS0} + data.seq, values: { seq: data.seq } }
  };
`;
const DOWNLINK = `
  return {
    contentType: 'JSON',
    data: JSON.stringify({ method: msg.method, params: msg.params }),
    metadata: { topic: integrationMetadata.prefix + '/devices/' + metadata.deviceName + '/rpc' }
  };
`;

let dir = '';
const hosts: HostProcess[] = [];
const clients: MqttClient[] = [];

function integration(name: string, prefix: string, config: Record<string, unknown> = {}) {
  return {
    name,
    type: 'mqtt',
    config: {
      host: '127.0.0.1',
      port: PORTS.plain,
      protocolVersion: '5',
      topicFilters: [{ filter: `${prefix}/+/data`, qos: 1 }],
      deviceNamePattern: '${topic[-2]}',
      reconnect: { initialDelayMs: 200, maxDelayMs: 2000 },
      ...config,
    },
    metadata: { prefix },
    uplinkConverter: { inline: UPLINK },
    downlinkConverter: { inline: DOWNLINK },
  };
}

async function startHost(label: string, integrations: unknown[], env: Record<string, string> = {}): Promise<HostProcess> {
  const hostDir = path.join(dir, label);
  const host = await startHostProcess({
    dir: hostDir,
    token: TOKEN,
    env,
    config: {
      http: { host: '127.0.0.1', port: 0 },
      auth: { token: TOKEN },
      dataDir: path.join(hostDir, 'data'),
      plugins: [PLUGIN_DIR],
      log: { level: 'info' },
      integrations,
    },
  });
  hosts.push(host);
  return host;
}

async function publisher(options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect({
    host: '127.0.0.1',
    port: PORTS.plain,
    protocolVersion: 5,
    reconnectPeriod: 300,
    clean: false,
    clientId: `e2e-pub-${Math.random().toString(16).slice(2, 10)}`,
    ...options,
  });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

const json = (device: string) => (i: number) => JSON.stringify({ seq: i, device });

/** Distinct `seq` values the host's platform holds for a device. */
async function storedSeqs(host: HostProcess, device: string): Promise<Set<number>> {
  const r = await host.api(`/devices/${encodeURIComponent(device)}/telemetry/seq?from=${TS0}&to=${TS0 + 10_000_000}&limit=100000`);
  if (r.status === 404) return new Set();
  expect(r.status).toBe(200);
  return new Set((r.body as Array<{ value: number }>).map((v) => v.value));
}

/** The same, read straight from a platform database (for hosts that are not running). */
function storedSeqsInDb(dataDir: string, device: string): Set<number> {
  return new Set(storedTelemetry(dataDir, 'seq', { name: device }));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-mqtt-e2e-'));
  await mosquitto.start();
}, 120_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  const codes = await Promise.all(hosts.splice(0).map((h) => h.stop()));
  expect(codes.every((c) => c === 0 || c === null)).toBe(true);
}, 60_000);

afterAll(async () => {
  await mosquitto.stop(); // this file's private instance
  await rm(dir, { recursive: true, force: true });
});

describe('MQTT integration in a real host', () => {
  it('stores messages from several filters with device patterns, QoS 0 and 1, and MQTT 5 user properties', async () => {
    const p = uniquePrefix('e2e-basic');
    const host = await startHost('basic', [
      integration('basic', p, {
        topicFilters: [
          { filter: `${p}/+/data`, qos: 1 },
          { filter: `${p}/fleet/#`, qos: 0, deviceNamePattern: 'fleet-${topic[-1]}', deviceTypePattern: 'truck' },
        ],
      }),
    ]);
    const pub = await publisher();
    await eventually(async () => (await host.api('/integrations/basic')).body?.health?.status === 'up');
    await pub.publishAsync(`${p}/boiler-1/data`, JSON.stringify({ seq: 1 }), { qos: 1, properties: { userProperties: { site: 'north' } } });
    await pub.publishAsync(`${p}/fleet/eu/t-9`, JSON.stringify({ seq: 2 }), { qos: 0 });
    await pub.publishAsync(`${p}/boiler-1/other`, JSON.stringify({ seq: 3 }), { qos: 1 }); // matches no filter
    expect(await eventually(async () => (await storedSeqs(host, 'fleet-t-9')).size === 1, 30_000)).toBe(true);
    expect(await eventually(async () => (await storedSeqs(host, 'boiler-1')).size === 1, 30_000)).toBe(true);
    expect([...(await storedSeqs(host, 'boiler-1'))]).toEqual([1]);
    const device = await host.api('/devices/fleet-t-9');
    expect(device.body).toMatchObject({ name: 'fleet-t-9', type: 'truck' });
    const attrs = Object.fromEntries(
      ((await host.api('/devices/boiler-1/attributes/client')).body as Array<{ key: string; value: unknown }>).map((a) => [a.key, a.value]),
    );
    expect(attrs).toMatchObject({ lastTopic: `${p}/boiler-1/data`, qos: '1', site: 'north' });
  }, 90_000);

  it('connects over TLS and to the password listener (secret from the environment)', async () => {
    const p = uniquePrefix('e2e-sec');
    const host = await startHost(
      'secure',
      [
        integration('tls', `${p}/tls`, { port: PORTS.tls, tls: { ca: path.join(CERTS, 'ca.crt') } }),
        integration('auth', `${p}/auth`, { port: PORTS.auth, username: 'tbi', password: '${env:E2E_MQTT_PASSWORD}' }),
      ],
      { E2E_MQTT_PASSWORD: 'tbi-secret' },
    );
    expect(host.logs.join('\n')).not.toContain('tbi-secret');
    const pub = await publisher();
    for (const name of ['tls', 'auth']) {
      expect(await eventually(async () => (await host.api(`/integrations/${name}`)).body?.health?.status === 'up', 30_000)).toBe(true);
    }
    await pub.publishAsync(`${p}/tls/dev-tls/data`, JSON.stringify({ seq: 7 }), { qos: 1 });
    await pub.publishAsync(`${p}/auth/dev-auth/data`, JSON.stringify({ seq: 8 }), { qos: 1 });
    expect(await eventually(async () => (await storedSeqs(host, 'dev-tls')).has(7), 30_000)).toBe(true);
    expect(await eventually(async () => (await storedSeqs(host, 'dev-auth')).has(8), 30_000)).toBe(true);
  }, 90_000);

  it('round-trips a downlink: RPC over REST → downlink converter → publish → subscriber', async () => {
    const p = uniquePrefix('e2e-rpc');
    const host = await startHost('rpc', [integration('rpc', p)]);
    const pub = await publisher();
    const got = new Promise<{ topic: string; body: unknown }>((resolve) =>
      pub.on('message', (topic, payload) => resolve({ topic, body: JSON.parse(payload.toString()) })),
    );
    await pub.subscribeAsync(`${p}/devices/#`, { qos: 1 });
    await eventually(async () => (await host.api('/integrations/rpc')).body?.health?.status === 'up');
    await pub.publishAsync(`${p}/valve-1/data`, JSON.stringify({ seq: 1 }), { qos: 1 });
    expect(await eventually(async () => (await storedSeqs(host, 'valve-1')).size === 1, 30_000)).toBe(true);
    const rpc = await host.api('/devices/valve-1/rpc', { method: 'POST', body: JSON.stringify({ method: 'open', params: { percent: 40 }, oneway: true }) });
    expect(rpc.status).toBe(200);
    expect(await got).toEqual({ topic: `${p}/devices/valve-1/rpc`, body: { method: 'open', params: { percent: 40 } } });
    const delivered = await eventually(
      async () => ((await host.api('/devices/valve-1/commands')).body as Array<{ status: string }>)[0]?.status === 'delivered',
      15_000,
    );
    expect(delivered).toBe(true);
  }, 90_000);
});

describe('nothing lost', () => {
  it('(1) 10,000 QoS 1 messages while the host is killed half way and started again: all stored', async () => {
    const p = uniquePrefix('e2e-kill');
    const config = [integration('kill', p)];
    const first = await startHost('kill', config);
    await eventually(async () => (await first.api('/integrations/kill')).body?.health?.status === 'up');
    const pub = await publisher();
    // Paced (about 5 s for all), so the kill lands in the middle of the stream.
    const publishing = publishMany(pub, `${p}/meter/data`, 10_000, { payload: json('meter'), pauseMs: 250 });
    // Kill it while the stream runs: a crash, nothing flushed, in-flight messages unacknowledged.
    await eventually(async () => (await storedSeqs(first, 'meter')).size >= 1000, 60_000, 20);
    await first.kill();
    const atKill = storedSeqsInDb(path.join(dir, 'kill', 'data'), 'meter').size;
    expect(atKill).toBeLessThan(10_000);
    await publishing; // the rest waits in the broker, in the host's persistent session
    const second = await startHost('kill', config); // same data dir: same client ID, same session
    expect(await eventually(async () => (await storedSeqs(second, 'meter')).size === 10_000, 120_000, 500)).toBe(true);
    expect(await storedSeqs(second, 'meter')).toEqual(new Set(range(10_000)));
  }, 240_000);

  it('(2) the broker restarted mid-stream: all stored after reconnection', async () => {
    const p = uniquePrefix('e2e-broker');
    const host = await startHost('broker-restart', [integration('restart', p)]);
    await eventually(async () => (await host.api('/integrations/restart')).body?.health?.status === 'up');
    const pub = await publisher();
    // Paced (about 5 s for all), so the restart lands in the middle of the stream.
    const publishing = publishMany(pub, `${p}/pump/data`, 10_000, { payload: json('pump'), pauseMs: 250 });
    await eventually(async () => (await storedSeqs(host, 'pump')).size >= 1000, 60_000, 20);
    const beforeRestart = (await storedSeqs(host, 'pump')).size;
    await mosquitto.restart();
    expect(beforeRestart).toBeLessThan(10_000);
    await publishing; // the publisher's own QoS 1 outbox resends across the restart
    expect(await eventually(async () => (await storedSeqs(host, 'pump')).size === 10_000, 120_000, 500)).toBe(true);
    expect(await host.metric('tbi_mqtt_reconnect_attempts_total', { integration: 'restart' })).toBeGreaterThanOrEqual(1);
  }, 240_000);

  it('(3) the platform failing for a while: nothing acknowledged meanwhile, all stored after it recovers', async () => {
    const p = uniquePrefix('e2e-platform');
    const host = await startHost('platform-down', [integration('down', p)]);
    await eventually(async () => (await host.api('/integrations/down')).body?.health?.status === 'up');
    const pub = await publisher();
    await publishMany(pub, `${p}/tank/data`, 100, { payload: json('tank') });
    expect(await eventually(async () => (await storedSeqs(host, 'tank')).size === 100, 30_000)).toBe(true);
    const ackedBefore = await host.metric('tbi_mqtt_messages_acked_total', { integration: 'down' });
    expect(ackedBefore).toBe(100);

    // Hold SQLite's write lock from another connection: every ingest fails (BUSY) and is retried.
    const db = new DatabaseSync(path.join(dir, 'platform-down', 'data', 'platform.db'));
    db.exec('BEGIN IMMEDIATE');
    try {
      await publishMany(pub, `${p}/tank/data`, 2000, { payload: json('tank'), from: 100 });
      expect(await eventually(async () => (await host.metric('tbi_mqtt_messages_unacked', { integration: 'down' })) > 0, 15_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 3000));
      expect(await host.metric('tbi_mqtt_messages_acked_total', { integration: 'down' })).toBe(ackedBefore);
      expect((await storedSeqs(host, 'tank')).size).toBe(100);
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    expect(await eventually(async () => (await storedSeqs(host, 'tank')).size === 2100, 90_000, 500)).toBe(true);
    expect(await eventually(async () => (await host.metric('tbi_mqtt_messages_acked_total', { integration: 'down' })) >= 2100, 30_000)).toBe(true);
  }, 180_000);

  it('(4) two hosts on one shared subscription: every message stored at least once, none missing', async () => {
    const p = uniquePrefix('e2e-shared');
    const shared = integration('shared', p, { sharedGroup: `tbi-${p.slice(-8)}` });
    const [a, b] = await Promise.all([startHost('shared-a', [shared]), startHost('shared-b', [shared])]);
    for (const h of [a, b]) await eventually(async () => (await h.api('/integrations/shared')).body?.health?.status === 'up');
    const pub = await publisher();
    await publishMany(pub, `${p}/grid/data`, 10_000, { payload: json('grid') });
    const union = async () => new Set([...(await storedSeqs(a, 'grid')), ...(await storedSeqs(b, 'grid'))]);
    expect(await eventually(async () => (await union()).size === 10_000, 120_000, 500)).toBe(true);
    const [na, nb] = [(await storedSeqs(a, 'grid')).size, (await storedSeqs(b, 'grid')).size];
    expect(na).toBeGreaterThan(0);
    expect(nb).toBeGreaterThan(0);
    await Promise.all([a.stop(), b.stop()]);
    // Read again from the databases after a clean stop: durable, not just in memory.
    const fromDb = new Set([...storedSeqsInDb(path.join(dir, 'shared-a', 'data'), 'grid'), ...storedSeqsInDb(path.join(dir, 'shared-b', 'data'), 'grid')]);
    expect(fromDb).toEqual(new Set(range(10_000)));
  }, 240_000);
});
