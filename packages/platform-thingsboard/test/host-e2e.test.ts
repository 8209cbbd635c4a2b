// End to end: real `tbi start` processes (built host, the MQTT connector's dist loaded by path)
// with `platform: {type: thingsboard}` against the gateway-API test server, and the shared
// Mosquitto (nothing here restarts it: the outage is ThingsBoard's).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// By path, not by package: the testkit depends on the host, which depends on this package.
import { startHostProcess, type HostProcess } from '../../plugin-testkit/src/host-process.js';
import { startGatewayTestServer, type GatewayTestServer } from '../../plugin-testkit/src/thingsboard/index.js';
import { mosquittoPorts } from '../../../scripts/ports.mjs';

const MQTT_PLUGIN = path.resolve(import.meta.dirname, '../../../plugins/mqtt');
const HTTP_PLUGIN = path.resolve(import.meta.dirname, '../../../plugins/http');
const BROKER = mosquittoPorts();
const TOKEN = 'tb-e2e-control-token-0123456789';
const GATEWAY_TOKEN = 'tb-e2e-gateway-token';
const TS0 = 1_700_000_000_000;

const UPLINK = `
  var data = decodeToJson(payload);
  var out = { deviceName: metadata.deviceName, deviceType: 'meter-profile', telemetry: { ts: ${TS0} + data.seq, values: { seq: data.seq } } };
  if (data.reply) out.rpcReply = { requestId: data.reply.requestId, response: data.reply.response };
  return out;
`;
// A webhook body with several devices: one message, many records, with client attributes.
const HTTP_UPLINK = `
  var data = decodeToJson(payload);
  return data.readings.map(function (r) {
    return { deviceName: r.id, deviceType: 'hook-profile', attributes: { fw: r.fw }, telemetry: [{ ts: r.ts, values: { temp: r.temp, ok: r.ok } }] };
  });
`;
const DOWNLINK = `
  if (msgType === 'ATTRIBUTES_UPDATED') {
    return { contentType: 'JSON', data: JSON.stringify({ shared: msg }), metadata: { topic: integrationMetadata.prefix + '/devices/' + metadata.deviceName + '/attributes' } };
  }
  return {
    contentType: 'JSON',
    data: JSON.stringify({ method: msg.method, params: msg.params, requestId: metadata.requestUUID }),
    metadata: { topic: integrationMetadata.prefix + '/devices/' + metadata.deviceName + '/rpc' }
  };
`;

let dir = '';
const hosts: HostProcess[] = [];
const clients: MqttClient[] = [];
const servers: GatewayTestServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-tb-e2e-'));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function server(options: Partial<Parameters<typeof startGatewayTestServer>[0]> = {}): Promise<GatewayTestServer> {
  const tb = await startGatewayTestServer({ accessToken: GATEWAY_TOKEN, ...options });
  servers.push(tb);
  return tb;
}

async function startHost(label: string, tb: GatewayTestServer, prefix: string, extra: unknown[] = []): Promise<HostProcess> {
  const hostDir = path.join(dir, label);
  const host = await startHostProcess({
    dir: hostDir,
    token: TOKEN,
    env: { TB_GATEWAY_TOKEN: GATEWAY_TOKEN },
    config: {
      http: { host: '127.0.0.1', port: 0 },
      auth: { token: TOKEN },
      dataDir: path.join(hostDir, 'data'),
      plugins: [MQTT_PLUGIN, HTTP_PLUGIN],
      platform: { type: 'thingsboard', host: '127.0.0.1', port: tb.port, accessToken: '${env:TB_GATEWAY_TOKEN}' },
      integrations: [
        {
          name: 'meters',
          type: 'mqtt',
          config: {
            host: '127.0.0.1',
            port: BROKER.plain,
            protocolVersion: '5',
            topicFilters: [{ filter: `${prefix}/+/data`, qos: 1 }],
            deviceNamePattern: '${topic[-2]}',
            clientId: `tb-e2e-${label}-${prefix.slice(-8)}`,
            cleanSession: false,
            reconnect: { initialDelayMs: 200, maxDelayMs: 2000 },
          },
          metadata: { prefix },
          uplinkConverter: { inline: UPLINK },
          downlinkConverter: { inline: DOWNLINK },
        },
        ...extra,
      ],
    },
  });
  hosts.push(host);
  return host;
}

async function client(): Promise<MqttClient> {
  const c = mqtt.connect({
    host: '127.0.0.1',
    port: BROKER.plain,
    protocolVersion: 5,
    reconnectPeriod: 300,
    clientId: `tb-e2e-pub-${randomUUID().slice(0, 8)}`,
  });
  clients.push(c);
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

async function eventually(ok: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await ok()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

const seqsOf = (tb: GatewayTestServer, device: string) => (tb.device(device)?.telemetry ?? []).map((s) => s.values.seq as number).sort((a, b) => a - b);

describe('MQTT connector → tbi → ThingsBoard (gateway-API test server)', () => {
  it('delivers the records of a webhook (HTTP connector) for several devices, with names, profiles, timestamps, values and attributes', async () => {
    const tb = await server();
    const host = await startHost('http', tb, 'tbi-test/tb-http/unused', [
      { name: 'hooks', type: 'http', config: { routingKey: 'tb-e2e-hook' }, uplinkConverter: { inline: HTTP_UPLINK } },
    ]);
    const body = {
      readings: [
        { id: 'hook-a', ts: TS0 + 7, temp: 20.5, ok: true, fw: '2.0.1' },
        { id: 'hook-b', ts: TS0 + 8, temp: -3, ok: false, fw: 'beta' },
      ],
    };
    const response = await fetch(`${host.url}/api/v1/integrations/http/tb-e2e-hook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBeLessThan(300);
    await tb.waitFor(() => tb.device('hook-b')?.telemetry.length === 1 && tb.device('hook-a')?.attributes.fw !== undefined, 20_000, 'both webhook devices');
    expect(tb.device('hook-a')).toMatchObject({
      type: 'hook-profile',
      connected: true,
      telemetry: [{ ts: TS0 + 7, values: { temp: 20.5, ok: true } }],
      attributes: { fw: '2.0.1' },
    });
    expect(tb.device('hook-b')).toMatchObject({
      type: 'hook-profile',
      telemetry: [{ ts: TS0 + 8, values: { temp: -3, ok: false } }],
      attributes: { fw: 'beta' },
    });
  }, 60_000);

  it('delivers records with device name, profile, timestamp and values; an RPC round-trips to an MQTT device and an attribute update reaches it', async () => {
    const prefix = `tbi-test/tb-rpc/${randomUUID().slice(0, 8)}`;
    const tb = await server();
    const host = await startHost('rpc', tb, prefix);
    await eventually(async () => (await host.api('/integrations/meters')).body?.health?.status === 'up', 20_000);
    const device = await client();
    await device.subscribeAsync(`${prefix}/devices/+/rpc`, { qos: 1 });
    await device.subscribeAsync(`${prefix}/devices/+/attributes`, { qos: 1 });
    const attributeUpdates: unknown[] = [];
    // The MQTT device answers each RPC on its data topic, carrying the request id back.
    device.on('message', (topic, payload) => {
      if (topic.endsWith('/attributes')) return void attributeUpdates.push(JSON.parse(payload.toString()));
      const rpc = JSON.parse(payload.toString()) as { requestId: string; params: { n: number } };
      void device.publishAsync(
        `${prefix}/valve-1/data`,
        JSON.stringify({ seq: 2, reply: { requestId: rpc.requestId, response: { doubled: rpc.params.n * 2 } } }),
        { qos: 1 },
      );
    });
    await device.publishAsync(`${prefix}/valve-1/data`, JSON.stringify({ seq: 1 }), { qos: 1 });
    await tb.waitFor(() => tb.device('valve-1')?.telemetry.length === 1, 20_000, 'the first record');
    expect(tb.device('valve-1')).toMatchObject({ type: 'meter-profile', connected: true, telemetry: [{ ts: TS0 + 1, values: { seq: 1 } }] });
    expect(await tb.rpc('valve-1', 'double', { n: 21 }, 20_000)).toEqual({ doubled: 42 });
    // A shared attribute update from ThingsBoard reaches the device through the downlink converter.
    tb.updateAttributes('valve-1', { targetPct: 30 });
    await tb.waitFor(() => attributeUpdates.length === 1, 20_000, 'the attribute update at the device');
    expect(attributeUpdates[0]).toEqual({ shared: { targetPct: 30 } });
    expect(tb.refusals).toEqual([]);
  }, 90_000);

  it('readiness says ThingsBoard is unreachable while it is down (the outbox still takes data), and is ready again once it is back', async () => {
    const tb = await server();
    const host = await startHost('ready', tb, `tbi-test/tb-ready/${randomUUID().slice(0, 8)}`);
    const readyz = async () => {
      const response = await fetch(`${host.url}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return { status: response.status, body: (await response.json()) as { ready: boolean; platform?: { status: string; detail?: string } } };
    };
    expect(await eventually(async () => (await readyz()).status === 200, 30_000)).toBe(true);
    expect((await readyz()).body.platform).toEqual({ status: 'up' });
    await tb.stop();
    let last = await readyz();
    expect(await eventually(async () => (last = await readyz()).status === 503, 30_000)).toBe(true);
    expect(last.body).toMatchObject({ ready: false, platform: { status: 'down', detail: expect.stringMatching(/^ThingsBoard is unreachable/) } });
    await tb.listen();
    expect(await eventually(async () => (await readyz()).status === 200, 30_000)).toBe(true);
  }, 120_000);

  it('10,000 messages: ThingsBoard down for a while, the host SIGKILLed mid-stream, quota exceeded — all stored once', async () => {
    const prefix = `tbi-test/tb-kill/${randomUUID().slice(0, 8)}`;
    // Two telemetry messages a second, not announced by getSessionLimits: the client meets 0x97.
    const tb = await server({ rateLimits: { telemetryMessages: [{ count: 2, seconds: 1 }] }, reportRateLimits: false });
    const first = await startHost('kill', tb, prefix);
    await eventually(async () => (await first.api('/integrations/meters')).body?.health?.status === 'up', 20_000);
    const pub = await client();
    const publishing = (async () => {
      for (let i = 0; i < 10_000; i += 500) {
        await Promise.all(Array.from({ length: 500 }, (_, k) => pub.publishAsync(`${prefix}/meter/data`, JSON.stringify({ seq: i + k }), { qos: 1 })));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    expect(await eventually(() => (tb.device('meter')?.telemetry.length ?? 0) >= 500, 60_000, 20)).toBe(true);
    await tb.stop(); // ThingsBoard down: the host keeps acknowledging into its outbox
    await new Promise((r) => setTimeout(r, 1500));
    await first.kill(); // SIGKILL: nothing flushed
    const atKill = tb.device('meter')!.telemetry.length;
    expect(atKill).toBeLessThan(10_000);
    await tb.listen();
    await publishing;
    const second = await startHost('kill', tb, prefix); // same data dir: same outbox, same MQTT session
    expect(await eventually(() => (tb.device('meter')?.telemetry.length ?? 0) >= 10_000, 150_000, 250)).toBe(true);
    expect(seqsOf(tb, 'meter')).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(tb.refusals.some((r) => r.code === 0x97 || r.reason.includes('rate limit'))).toBe(true);
    // Stored once each (ThingsBoard keys telemetry by device, key and ts); repeats on the wire are
    // those whose PUBACK the outage or the kill swallowed.
    console.info(`tb e2e: ${tb.samplesReceived - 10_000} samples sent again of 10 000; ${tb.connections} sessions; ${tb.refusals.length} refusals`);
    expect(second).toBeDefined();
  }, 240_000);
});
