import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startGatewayTestServer, type GatewayTestServer } from './gateway-test-server.js';

const open: Array<{ end(force?: boolean): unknown } | GatewayTestServer> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    if ('stop' in o) await o.stop();
    else o.end(true);
  }
});

async function serve(options: Partial<Parameters<typeof startGatewayTestServer>[0]> = {}) {
  const tb = await startGatewayTestServer({ accessToken: 'tok', ...options });
  open.push(tb);
  return tb;
}

function client(tb: GatewayTestServer, token: string, protocolVersion: 4 | 5 = 4): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port: tb.port, username: token, protocolVersion, reconnectPeriod: 0 });
    open.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

const publish = (c: MqttClient, topic: string, body: unknown) =>
  new Promise<void>((resolve, reject) =>
    c.publish(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 }, (e) => (e ? reject(e) : resolve())),
  );

describe('the gateway-API test server', () => {
  it('refuses a wrong access token with CONNACK 5 (MQTT 3.1.1) and 0x87 (MQTT 5)', async () => {
    const tb = await serve();
    await expect(client(tb, 'nope')).rejects.toMatchObject({ code: 5 });
    await expect(client(tb, 'nope', 5)).rejects.toMatchObject({ code: 0x87 });
  });

  it('records connect, telemetry and attributes per device', async () => {
    const tb = await serve();
    const c = await client(tb, 'tok');
    await publish(c, 'v1/gateway/connect', { device: 'A', type: 'meter' });
    await publish(c, 'v1/gateway/telemetry', { A: [{ ts: 1, values: { t: 1 } }], B: [{ ts: 2, values: { t: 2 } }] });
    await publish(c, 'v1/gateway/attributes', { A: { fw: 'x' } });
    expect(tb.device('A')).toMatchObject({ type: 'meter', connected: true, telemetry: [{ ts: 1, values: { t: 1 } }], attributes: { fw: 'x' } });
    expect(tb.device('B')).toMatchObject({ type: 'default', telemetry: [{ ts: 2, values: { t: 2 } }] });
  });

  it('closes an MQTT 3 connection on a payload ThingsBoard cannot parse; MQTT 5 answers 0x99 first', async () => {
    const tb = await serve();
    const c3 = await client(tb, 'tok');
    const closed = new Promise<void>((r) => c3.once('close', () => r()));
    c3.publish('v1/gateway/telemetry', JSON.stringify({ A: { t: 1 } }), { qos: 1 });
    await closed;
    const c5 = await client(tb, 'tok', 5);
    await expect(publish(c5, 'v1/gateway/telemetry', { A: { t: 1 } })).rejects.toMatchObject({ code: 0x99 });
    expect(tb.device('A')).toBeUndefined();
  });

  it('enforces rate limits with a 0x97 PUBACK and a disconnect, and reports limits on getSessionLimits', async () => {
    const tb = await serve({ rateLimits: { messages: [{ count: 2, seconds: 60 }] }, maxPayloadSize: 1000, maxInflightMessages: 7 });
    const c = await client(tb, 'tok', 5);
    const reply = new Promise<unknown>((resolve) => c.on('message', (_t, p) => resolve(JSON.parse(p.toString()))));
    await new Promise((r) => c.subscribe('v1/devices/me/rpc/response/+', { qos: 1 }, r));
    await publish(c, 'v1/devices/me/rpc/request/1', { method: 'getSessionLimits', params: {} });
    expect(await reply).toMatchObject({ maxPayloadSize: 1000, maxInflightMessages: 7, gatewayRateLimits: { messages: '2:60' } });
    await publish(c, 'v1/gateway/connect', { device: 'A' });
    await publish(c, 'v1/gateway/connect', { device: 'B' });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    await expect(publish(c, 'v1/gateway/connect', { device: 'C' })).rejects.toMatchObject({ code: 0x97 });
    await closed;
    expect(tb.device('C')).toBeUndefined();
  });

  it('closes the connection on a payload over maxPayloadSize', async () => {
    const tb = await serve({ maxPayloadSize: 100 });
    const c = await client(tb, 'tok');
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish('v1/gateway/attributes', JSON.stringify({ A: { big: 'x'.repeat(200) } }), { qos: 1 });
    await closed;
    expect(tb.refusals[0]).toMatchObject({ code: 0x95 });
  });

  it('stalls or drops PUBACKs on request', async () => {
    const tb = await serve({ ackMode: 'stall' });
    const c = await client(tb, 'tok');
    let acked = false;
    const p = publish(c, 'v1/gateway/connect', { device: 'A' }).then(() => {
      acked = true;
    });
    await tb.waitFor(() => tb.device('A') !== undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(acked).toBe(false);
    tb.setAckMode('normal');
    await p;
    tb.setAckMode('drop');
    let second = false;
    void publish(c, 'v1/gateway/connect', { device: 'B' }).then(
      () => {
        second = true;
      },
      () => {},
    );
    await tb.waitFor(() => tb.device('B') !== undefined);
    tb.setAckMode('normal');
    await new Promise((r) => setTimeout(r, 100));
    expect(second).toBe(false);
  });

  it('sends RPCs and attribute updates and resolves the RPC with the gateway reply', async () => {
    const tb = await serve();
    const c = await client(tb, 'tok');
    await new Promise((r) => c.subscribe(['v1/gateway/rpc', 'v1/gateway/attributes'], { qos: 1 }, r));
    const got: Array<{ topic: string; body: { device: string; data: { id?: number } } }> = [];
    c.on('message', (topic, p) => {
      const body = JSON.parse(p.toString());
      got.push({ topic, body });
      if (topic === 'v1/gateway/rpc') void publish(c, 'v1/gateway/rpc', { device: body.device, id: body.data.id, data: { done: true } });
    });
    expect(await tb.rpc('A', 'reboot', { delay: 1 })).toEqual({ done: true });
    tb.updateAttributes('A', { target: 3 });
    await tb.waitFor(() => got.length === 2);
    expect(got[0]).toMatchObject({ topic: 'v1/gateway/rpc', body: { device: 'A', data: { method: 'reboot', params: { delay: 1 } } } });
    expect(got[1]).toEqual({ topic: 'v1/gateway/attributes', body: { device: 'A', data: { target: 3 } } });
  });
});
