import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type HostHandle } from '../src/index.js';
import { memoryLogger } from './helpers/memory-logger.js';
import { FIXTURES } from './helpers/packed-project.js';

const TOKEN = 'test-token-0123456789abcdef';
const converter = {
  inline: "var d = decodeToJson(payload); return { deviceName: d.deviceName, deviceType: 'sensor', telemetry: { temperature: d.temperature } };",
};

describe('a host with fixture plugins, in process', () => {
  let host: HostHandle;
  const log = memoryLogger();
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const get = (p: string, headers: Record<string, string> = {}) => fetch(`${host.url}${p}`, { headers });

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tbi-host-'));
    host = await startHost({
      config: {
        http: { host: '127.0.0.1', port: 0, bodyLimitBytes: 4096 },
        dataDir,
        plugins: ['./echo', './shadow'],
        integrations: [
          { name: 'echo-a', type: 'echo', config: { key: 'a', greeting: 'hi from a' }, uplinkConverter: converter },
          { name: 'echo-b', type: 'echo', config: { key: 'b' }, uplinkConverter: converter },
          { name: 'echo-broken', type: 'echo', config: { key: 'c', failStart: true }, uplinkConverter: converter },
          { name: 'shadow', type: 'shadow', uplinkConverter: converter },
        ],
      },
      baseDir: FIXTURES,
      env: { TBI_TOKEN: TOKEN },
      logger: log.logger,
      // echo-broken is restarted after failing: not within these tests, which look at it failed.
      restartPolicy: { initialMs: 60_000, maxMs: 60_000, random: () => 1 },
    });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it("serves each instance's routes under its type's prefix, with the client's address", async () => {
    const a = await get('/api/v1/integrations/echo/a/hello');
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual({ greeting: 'hi from a', name: 'echo-a', remoteAddress: '127.0.0.1' });
    const b = await get('/api/v1/integrations/echo/b/hello');
    expect(await b.json()).toMatchObject({ name: 'echo-b', greeting: 'hello' });
    expect((await get('/api/v1/integrations/nothing/zzz')).status).toBe(404);
  });

  it('keeps running when one integration fails to start, and reports it with the plugin and cause', async () => {
    const ready = await get('/readyz', auth);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { ready: boolean; integrations: Array<{ name: string; state: string; error?: string }> };
    const broken = body.integrations.find((i) => i.name === 'echo-broken')!;
    expect(broken.state).toBe('failed');
    expect(broken.error).toBe('integration "echo-broken" (plugin tbi-fixture-echo 1.2.3) failed to start: the fixture was told to fail (failStart: true)');
    expect(body.integrations.filter((i) => i.state === 'running').map((i) => i.name)).toEqual(['echo-a', 'echo-b', 'shadow']);
    // While an instance of the type should run but does not, requests no running instance
    // answers may be meant for it: 503, not 404.
    const waiting = await get('/api/v1/integrations/echo/c/hello');
    expect(waiting.status).toBe(503);
    expect(await waiting.json()).toEqual({ error: 'integration "echo-broken" is not running yet' });
  });

  it('answers readiness to everyone, but shows the integrations (and their URLs) only with the token', async () => {
    for (const headers of [{}, { Authorization: 'Bearer wrong-token' }] as Record<string, string>[]) {
      const res = await get('/readyz', headers);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ ready: false });
    }
    const detailed = (await (await get('/readyz', auth)).json()) as { ready: boolean; integrations: unknown[] };
    expect(detailed.ready).toBe(false);
    expect(detailed.integrations).toHaveLength(4);
  });

  it('answers TRACE with 405 on every route, plugin routes included (it reached them as a GET)', async () => {
    for (const p of ['/api/v1/integrations/echo/a/hello', '/healthz']) {
      const res = await new Promise<{ status: number; allow: string | undefined }>((resolve, reject) => {
        const req = request(`${host.url}${p}`, { method: 'TRACE' }, (r) => {
          r.resume();
          r.on('end', () => resolve({ status: r.statusCode ?? 0, allow: r.headers.allow }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(res.status, p).toBe(405);
      expect(res.allow).toContain('GET');
    }
  });

  it("does not let a plugin shadow the host's routes", async () => {
    const health = await get('/healthz');
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(health.headers.get('x-shadowed')).toBeNull();
    expect((await get('/api/plugins')).status).toBe(401);
    expect((await get('/metrics')).headers.get('content-type')).toMatch(/^text\/plain/);
    // The plugin's routes are there, but only under its prefix.
    const own = await get('/api/v1/integrations/shadow/healthz');
    expect(await own.json()).toEqual({ shadowed: '/healthz' });
    expect(own.headers.get('x-shadowed')).toBe('yes');
  });

  it('answers 401 on the control API without the bearer token, and serves it with it', async () => {
    for (const p of ['/api/plugins', '/api/integrations', '/api/devices', '/api/integrations/echo-a']) {
      const res = await get(p);
      expect(res.status, p).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tbi"');
      expect((await get(p, { Authorization: 'Bearer wrong-token' })).status).toBe(401);
    }
    const plugins = (await (await get('/api/plugins', auth)).json()) as { plugins: Array<{ package: string }> };
    expect(plugins.plugins.map((p) => p.package)).toEqual(['tbi-fixture-echo', 'tbi-fixture-shadow']);
    const list = (await (await get('/api/integrations', auth)).json()) as { integrations: unknown[] };
    expect(list.integrations).toHaveLength(4);
  });

  it('stores what an integration submits, through the real sandbox and embedded platform', async () => {
    const res = await fetch(`${host.url}/api/v1/integrations/echo/a/ingest`, {
      method: 'POST',
      body: JSON.stringify({ deviceName: 'thermo-1', temperature: 21.5 }),
    });
    expect(res.status).toBe(200);
    const { outcomes } = (await res.json()) as { outcomes: Array<{ status: string }> };
    expect(outcomes[0]!.status).toBe('stored');
    const device = (await (await get('/api/devices/thermo-1', auth)).json()) as { name?: string; type?: string };
    expect(device).toMatchObject({ name: 'thermo-1', type: 'sensor' });
    // The second instance of the type gets the body too (the first one did not match the path).
    const viaB = await fetch(`${host.url}/api/v1/integrations/echo/b/ingest`, {
      method: 'POST',
      body: JSON.stringify({ deviceName: 'thermo-2', temperature: 1 }),
    });
    expect(((await viaB.json()) as { outcomes: Array<{ status: string }> }).outcomes[0]!.status).toBe('stored');
    expect((await get('/api/devices/thermo-2', auth)).status).toBe(200);
  });

  it('limits request bodies everywhere', async () => {
    const big = 'x'.repeat(10_000);
    expect((await fetch(`${host.url}/api/v1/integrations/echo/a/ingest`, { method: 'POST', body: big })).status).toBe(413);
    expect((await fetch(`${host.url}/api/converters/test`, { method: 'POST', body: big, headers: auth })).status).toBe(413);
    // Without Content-Length (chunked) the body is counted as it arrives.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1_000)));
        controller.close();
      },
    });
    const streamed = await fetch(`${host.url}/api/v1/integrations/echo/a/ingest`, { method: 'POST', body: chunked, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('exposes Prometheus metrics with an integration label on plugin metrics', async () => {
    await get('/api/v1/integrations/echo/b/hello');
    const text = await (await get('/metrics')).text();
    expect(text).toMatch(/^tbi_integration_up\{integration="echo-a",type="echo"\} 1$/m);
    expect(text).toMatch(/^tbi_integration_up\{integration="echo-broken",type="echo"\} 0$/m);
    expect(text).toMatch(/^fixture_echo_requests_total\{integration="echo-b"\} [1-9]/m);
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('stops and starts integrations through the API; readiness follows', async () => {
    const broken = await fetch(`${host.url}/api/integrations/echo-broken/stop`, { method: 'POST', headers: auth });
    expect(((await broken.json()) as { desired: string }).desired).toBe('stopped');
    expect((await get('/readyz')).status).toBe(200);
    const stop = await fetch(`${host.url}/api/integrations/echo-b/stop`, { method: 'POST', headers: auth });
    expect(((await stop.json()) as { state: string }).state).toBe('stopped');
    expect((await get('/api/v1/integrations/echo/b/hello')).status).toBe(404);
    expect((await get('/api/v1/integrations/echo/a/hello')).status).toBe(200);
    const start = await fetch(`${host.url}/api/integrations/echo-b/start`, { method: 'POST', headers: auth });
    expect(((await start.json()) as { state: string }).state).toBe('running');
    expect((await get('/api/v1/integrations/echo/b/hello')).status).toBe(200);
    expect((await fetch(`${host.url}/api/integrations/nope/start`, { method: 'POST', headers: auth })).status).toBe(404);
    const retry = await fetch(`${host.url}/api/integrations/echo-broken/start`, { method: 'POST', headers: auth });
    expect(retry.status).toBe(500);
    expect((await get('/readyz')).status).toBe(503);
  });

  it('tests a converter through the API', async () => {
    const res = await fetch(`${host.url}/api/converters/test`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'uplink', source: converter.inline, payload: '{"deviceName":"x","temperature":3}' }),
    });
    const report = (await res.json()) as { ok: boolean; records: Array<{ deviceName: string }> };
    expect(report.ok).toBe(true);
    expect(report.records[0]!.deviceName).toBe('x');
  });

  it('logs the listening URL and each integration status', () => {
    const messages = log.lines().map((l) => l.msg);
    expect(messages).toContain(`listening on ${host.url}`);
    expect(messages).toContain('integration echo-a: up');
    expect(messages.some((m) => typeof m === 'string' && m.startsWith('integration echo-broken: down'))).toBe(true);
  });
});
