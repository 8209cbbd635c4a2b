import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createPlatformRoutes } from '../src/index.js';
import { collectCommands, item, record, tempPlatform } from './helpers.js';

type Env = Awaited<ReturnType<typeof tempPlatform>>;
let env: Env;
afterEach(async () => env?.cleanup());

/** Mounted the way the host mounts it: under /api. */
async function api() {
  env = await tempPlatform();
  const app = new Hono().route('/api', createPlatformRoutes(env.platform));
  await env.platform.ingest([
    item(
      [
        record('boiler/1', {
          deviceType: 'boiler',
          attributes: { fw: '2.0' },
          telemetry: [
            { ts: 1000, values: { temp: 60 } },
            { ts: 2000, values: { temp: 64, on: true } },
          ],
        }),
        record('pump-1', { deviceType: 'pump' }),
      ],
      undefined,
      'mqtt-1',
    ),
  ]);
  const call = async (path: string, init?: RequestInit) => {
    const res = await app.request(path, init);
    // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON the route answers.
    return { status: res.status, body: (await res.json()) as any };
  };
  const post = (path: string, body: unknown) =>
    call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { app, call, post, platform: env.platform };
}

const boiler = `/api/devices/${encodeURIComponent('boiler/1')}`;

describe('REST routes', () => {
  it('lists, searches and reads devices', async () => {
    const { call } = await api();
    expect((await call('/api/devices')).body).toMatchObject({ total: 2, hasNext: false });
    const found = await call('/api/devices?search=boil&type=boiler&limit=10&offset=0');
    expect(found.body.data.map((d: { name: string }) => d.name)).toEqual(['boiler/1']);
    expect(await call(boiler)).toMatchObject({ status: 200, body: { name: 'boiler/1', type: 'boiler', integration: 'mqtt-1' } });
    expect(await call('/api/devices/ghost')).toMatchObject({ status: 404, body: { error: { code: 'DEVICE_NOT_FOUND' } } });
    expect(await call('/api/devices?limit=abc')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT' } } });
  });

  it('reads latest and historical telemetry, raw and aggregated', async () => {
    const { call } = await api();
    expect((await call(`${boiler}/telemetry/latest`)).body).toEqual({ on: { ts: 2000, value: true }, temp: { ts: 2000, value: 64 } });
    expect((await call(`${boiler}/telemetry/latest?keys=temp`)).body).toEqual({ temp: { ts: 2000, value: 64 } });
    expect((await call(`${boiler}/telemetry/temp?from=0&to=3000&order=asc`)).body).toEqual([
      { ts: 1000, value: 60 },
      { ts: 2000, value: 64 },
    ]);
    expect((await call(`${boiler}/telemetry/temp?from=0&to=3000&agg=avg&interval=3000`)).body).toEqual([{ ts: 0, value: 62, count: 2 }]);
    expect((await call(`${boiler}/telemetry/temp?from=0&to=3000&limit=1`)).body).toEqual([{ ts: 2000, value: 64 }]);
    expect(await call(`${boiler}/telemetry/temp?to=3000`)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT' } } });
    expect((await call(`${boiler}/telemetry/temp?from=0&to=3000&agg=median`)).status).toBe(400);
    expect((await call('/api/devices/ghost/telemetry/latest')).status).toBe(404);
  });

  it('reads and writes attributes; a shared write becomes a downlink command', async () => {
    const { call, post, platform } = await api();
    const commands = collectCommands(platform);
    expect((await call(`${boiler}/attributes/client`)).body).toMatchObject([{ key: 'fw', value: '2.0' }]);
    const written = await post(`${boiler}/attributes/shared`, { setpoint: 70 });
    expect(written).toMatchObject({ status: 200, body: { updated: 1, commandId: expect.any(String) } });
    expect(commands).toMatchObject([{ msgType: 'ATTRIBUTES_UPDATED', msg: { setpoint: 70 }, integration: 'mqtt-1' }]);
    expect((await call(`${boiler}/attributes/shared?keys=setpoint`)).body).toMatchObject([{ key: 'setpoint', value: 70 }]);
    expect((await post(`${boiler}/attributes/client`, { a: 1 })).status).toBe(400);
    expect((await post(`${boiler}/attributes/shared`, '{not json')).status).toBe(400);
    expect((await post(`${boiler}/attributes/shared`, [1, 2])).status).toBe(400);
    expect((await call(`${boiler}/attributes/everything`)).status).toBe(400);
    expect((await post('/api/devices/ghost/attributes/shared', { a: 1 })).status).toBe(404);
  });

  it('posts RPCs: one-way answers at once, two-way waits for the reply or answers 504', async () => {
    const { call, post, platform } = await api();
    const commands = collectCommands(platform);
    const oneway = await post(`${boiler}/rpc`, { method: 'reset', oneway: true });
    expect(oneway).toMatchObject({ status: 200, body: { requestId: commands[0]?.id } });

    const twoway = post(`${boiler}/rpc`, { method: 'getTemp', params: { unit: 'C' }, timeoutMs: 20_000 });
    while (commands.length < 2) await new Promise((r) => setTimeout(r, 5));
    const request = commands[1]!;
    expect(request.msg).toEqual({ method: 'getTemp', params: { unit: 'C' } });
    await platform.ingest([item([record('boiler/1', { rpcReplies: [{ requestId: request.id, response: { temp: 64 } }] })])]);
    expect(await twoway).toEqual({ status: 200, body: { requestId: request.id, response: { temp: 64 } } });

    const late = await post(`${boiler}/rpc`, { method: 'slow', timeoutMs: 30 });
    expect(late).toMatchObject({ status: 504, body: { error: { code: 'RPC_TIMEOUT', requestId: commands[2]?.id } } });

    expect((await post(`${boiler}/rpc`, { params: {} })).status).toBe(400);
    expect((await post('/api/devices/ghost/rpc', { method: 'm' })).status).toBe(404);

    const history = await call(`${boiler}/commands?limit=10`);
    expect(history.body.map((c: { msg: { method: string }; status: string }) => [c.msg.method, c.status])).toEqual([
      ['slow', 'expired'],
      ['getTemp', 'replied'],
      ['reset', 'queued'],
    ]);
    expect((await call(`${boiler}/commands?status=replied`)).body).toHaveLength(1);
    expect((await call(`${boiler}/commands?status=bogus`)).status).toBe(400);
  });

  it('answers 503 with a retryable error code when the store is locked', async () => {
    const { post } = await api();
    const other = env.secondConnection();
    other.exec('BEGIN EXCLUSIVE');
    try {
      expect(await post(`${boiler}/attributes/server`, { a: 1 })).toMatchObject({ status: 503, body: { error: { code: 'DELIVERY_FAILED' } } });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });
});
