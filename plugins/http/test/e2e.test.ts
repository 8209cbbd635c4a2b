// End to end: a real `tbi start` process (built host + this plugin's dist, loaded by path) with
// the real sandbox and the embedded platform, driven over real HTTP and HTTPS on loopback.
// Needs `pnpm build` first (scripts/test.sh does it).
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostProcess, type HostProcess } from '@tbi/plugin-testkit';

const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');

const TOKEN = 'e2e-control-token-0123456789';
const HMAC_SECRET = 'e2e-hmac-secret';
const PREFIX = '/api/v1/integrations/http';

// Converters run in the real sandbox, ThingsBoard style.
const UPLINK = `
  if (metadata['Query:fail'] === '1') throw new Error('converter says no');
  if (metadata['Query:empty'] === '1') return [];
  if (metadata['Query:replies'] === '1') return { deviceName: 'replier', deviceType: 'e2e', rpcReplies: [{ requestId: '1', response: 1 }] };
  var type = metadata['Header:content-type'] || '';
  var name = metadata['Query:device'];
  var values = { size: payload.length };
  if (type.indexOf('json') >= 0) {
    var data = decodeToJson(payload);
    name = name || data.deviceName;
    values.temperature = data.temperature;
  } else if (type.indexOf('text') >= 0) {
    values.text = decodeToString(payload);
  } else {
    values.hex = payload.map(function (b) { return ('0' + (b & 255).toString(16)).slice(-2); }).join('');
  }
  return {
    deviceName: name || 'nameless',
    deviceType: 'e2e',
    attributes: {
      pathSuffix: metadata.pathSuffix || '',
      remoteAddress: metadata.remoteAddress,
      method: metadata.httpMethod,
      tags: metadata['Query:tag'] || '',
      customHeader: metadata['Header:x-custom'] || '',
      integration: metadata.integrationName
    },
    telemetry: values
  };
`;
const DOWNLINK = `
  if (msgType === 'ATTRIBUTES_UPDATED') return { contentType: 'JSON', data: JSON.stringify({ shared: msg }), metadata: {} };
  var p = msg.params || {};
  if (p.kind === 'text') return { contentType: 'TEXT', data: p.text, metadata: {} };
  if (p.kind === 'binary') return { contentType: 'BINARY', data: p.base64, metadata: {} };
  return { contentType: 'JSON', data: JSON.stringify({ method: msg.method, params: p }), metadata: { eui: 'eui-' + metadata.deviceName } };
`;

let dir = '';
let host: HostProcess;
let tlsHost: HostProcess;
let outbound: Server;
let outboundUrl = '';
let tlsCert = '';
const received: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: Buffer; status: number }> = [];
/** Statuses the outbound test server answers next, in order (then 200). */
const outboundScript: number[] = [];

function integration(name: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    name,
    type: 'http',
    config: { routingKey: `e2e-${name}`, ...config },
    uplinkConverter: { inline: UPLINK },
    downlinkConverter: { inline: DOWNLINK },
    ...extra,
  };
}

function hostConfig(dataDir: string, integrations: unknown[], http: Record<string, unknown> = {}) {
  return { http, auth: { token: TOKEN }, dataDir, plugins: [PLUGIN_DIR], log: { level: 'info' }, integrations };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-http-e2e-'));

  outbound = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = outboundScript.shift() ?? 200;
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => outbound.listen(0, '127.0.0.1', resolve));
  outboundUrl = `http://127.0.0.1:${(outbound.address() as AddressInfo).port}`;

  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    ],
    { stdio: 'ignore' },
  );
  tlsCert = await readFile(cert, 'utf8');

  const main = startHostProcess({
    dir: await mkdtemp(path.join(dir, 'main-')),
    env: { E2E_HMAC_SECRET: HMAC_SECRET },
    config: hostConfig(path.join(dir, 'main-data'), [
      integration('plain', {}),
      // Checking a 100,000-character name can take longer than the default limit on a loaded machine.
      integration('long-names', {}, { converterLimits: { timeoutMs: 10_000 } }),
      integration('ok', { replaceNoContentToOk: true }),
      integration('headers', { headersFilter: { 'X-Api-Key': 'e2e-key' } }),
      integration('hmac', { hmac: { header: 'x-signature', secret: '${env:E2E_HMAC_SECRET}', timestampHeader: 'x-timestamp', toleranceSeconds: 60 } }),
      integration('deny-ip', { ipAllowlist: ['10.0.0.0/8', '2001:db8::/32'] }),
      integration('allow-ip', { ipAllowlist: ['10.0.0.0/8', '127.0.0.0/8'] }),
      integration('small', { maxBodyBytes: 64 }),
      integration('limited', { rateLimit: { requestsPerSecond: 0.2, burst: 2 } }),
      integration('slow', { responseTimeoutMs: 1500, retryAfterSeconds: 3 }),
      integration('outbound', {
        downlink: { url: `${outboundUrl}/down/\${deviceName}?eui=\${metadata.eui}`, headers: { 'x-device': '${deviceName}' }, retries: 2, backoffMs: 200 },
      }),
      // No routing key: generated and logged.
      { name: 'generated', type: 'http', uplinkConverter: { inline: UPLINK } },
    ]),
  });
  const tls = startHostProcess({
    dir: await mkdtemp(path.join(dir, 'tls-')),
    host: '::1',
    config: hostConfig(
      path.join(dir, 'tls-data'),
      [integration('tls', { ipAllowlist: ['::1/128'] }), integration('tls-deny', { ipAllowlist: ['2001:db8::/32'] })],
      { tls: { cert, key } },
    ),
  });
  [host, tlsHost] = await Promise.all([main, tls]);
}, 120_000);

afterAll(async () => {
  const codes = await Promise.all([host?.stop(), tlsHost?.stop()]);
  outbound?.closeAllConnections();
  await new Promise((resolve) => outbound?.close(resolve));
  await rm(dir, { recursive: true, force: true });
  // A clean shutdown of both hosts (when they started at all; a start failure is reported above).
  if (host !== undefined && tlsHost !== undefined) expect(codes).toEqual([0, 0]);
}, 60_000);

const send = (name: string, init: RequestInit & { query?: string; suffix?: string } = {}) =>
  fetch(`${host.url}${PREFIX}/e2e-${name}${init.suffix ?? ''}${init.query ?? ''}`, { method: 'POST', ...init });
const json = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const api = async (p: string, init: RequestInit = {}) => {
  const res = await fetch(`${host.url}/api${p}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers },
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON the route answers.
  return { status: res.status, body: (await res.json()) as any };
};
const latest = async (device: string) => (await api(`/devices/${encodeURIComponent(device)}/telemetry/latest`)).body as Record<string, { value: unknown }>;
const clientAttributes = async (device: string) => {
  const list = (await api(`/devices/${encodeURIComponent(device)}/attributes/client`)).body as Array<{ key: string; value: unknown }>;
  return Object.fromEntries(list.map((a) => [a.key, a.value]));
};
const rpc = (device: string, body: Record<string, unknown>) =>
  api(`/devices/${encodeURIComponent(device)}/rpc`, { method: 'POST', body: JSON.stringify({ oneway: true, ...body }) });
const commands = async (device: string) =>
  (await api(`/devices/${encodeURIComponent(device)}/commands`)).body as Array<{ id: string; status: string; error: string | null }>;

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('HTTP integration in a real host', () => {
  it('answers GET with 200 and logs a generated routing key', async () => {
    expect((await fetch(`${host.url}${PREFIX}/e2e-plain`)).status).toBe(200);
    const line = host.logs.find((l) => l.includes('HTTP integration listening') && l.includes('"routingKeySource":"generated"'));
    expect(line).toBeDefined();
    const key = (JSON.parse(line!) as { routingKey: string }).routingKey;
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    const res = await fetch(`${host.url}${PREFIX}/${key}?device=gen-1`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(204);
  });

  it('answers TRACE and other unsupported methods 405 with Allow, over a real socket', async () => {
    // fetch() refuses to send TRACE, so this goes through node:http.
    for (const method of ['TRACE', 'DELETE', 'OPTIONS']) {
      const res = await new Promise<{ status: number; allow: string | undefined; body: string }>((resolve, reject) => {
        const req = httpRequest(`${host.url}${PREFIX}/e2e-plain`, { method }, (r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, allow: r.headers.allow, body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect({ ...res, method }).toMatchObject({ method, status: 405, allow: expect.stringContaining('GET, HEAD, POST, PUT') });
      // TRACE is refused by the host before any route (it cannot reach a plugin intact); the rest by the plugin.
      if (method !== 'TRACE') expect(JSON.parse(res.body)).toMatchObject({ error: 'METHOD_NOT_ALLOWED' });
    }
  });

  it('applies the IP allowlist and the headers filter to GET and HEAD status checks', async () => {
    for (const method of ['GET', 'HEAD']) {
      expect((await fetch(`${host.url}${PREFIX}/e2e-deny-ip`, { method })).status, method).toBe(403);
      expect((await fetch(`${host.url}${PREFIX}/e2e-headers`, { method })).status, method).toBe(403);
      expect((await fetch(`${host.url}${PREFIX}/e2e-headers`, { method, headers: { 'x-api-key': 'e2e-key' } })).status, method).toBe(200);
      expect((await fetch(`${host.url}${PREFIX}/e2e-allow-ip`, { method })).status, method).toBe(200);
    }
  });

  it('keeps webhook URLs out of /readyz without the control token', async () => {
    const anonymous = await fetch(`${host.url}/readyz`);
    const text = await anonymous.text();
    expect(JSON.parse(text)).toEqual({ ready: expect.any(Boolean) });
    expect(text).not.toContain('e2e-');
    const detailed = await (await fetch(`${host.url}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(detailed).toContain('/api/v1/integrations/http/e2e-plain');
  });

  it('stores JSON, text and binary bodies untouched, with headers, query, suffix and address in metadata', async () => {
    const jsonBody = { deviceName: 'json-1', temperature: 21.5 };
    const r1 = await send('plain', {
      ...json(jsonBody),
      suffix: '/site/a',
      query: '?tag=x&tag=y',
      headers: { 'content-type': 'application/json', 'x-custom': 'hello' },
    });
    expect(r1.status).toBe(204);
    const r2 = await send('plain', { method: 'PUT', body: 'temp=21.5 °C', query: '?device=text-1', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect(r2.status).toBe(204);
    const r3 = await send('plain', {
      body: new Uint8Array([0x00, 0x01, 0xfe, 0xff]),
      query: '?device=bin-1',
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(r3.status).toBe(204);

    // 2xx means stored: the data is readable right away.
    expect(await latest('json-1')).toMatchObject({ temperature: { value: 21.5 }, size: { value: JSON.stringify(jsonBody).length } });
    expect(await clientAttributes('json-1')).toMatchObject({
      pathSuffix: 'site/a',
      tags: 'x,y',
      customHeader: 'hello',
      method: 'POST',
      remoteAddress: '127.0.0.1',
      integration: 'plain',
    });
    expect(await latest('text-1')).toMatchObject({ text: { value: 'temp=21.5 °C' } });
    expect(await clientAttributes('text-1')).toMatchObject({ method: 'PUT' });
    expect(await latest('bin-1')).toMatchObject({ hex: { value: '0001feff' }, size: { value: 4 } });
  });

  it('answers 200 with replaceNoContentToOk, and 204 for an empty converter result', async () => {
    const ok = await send('ok', json({ deviceName: 'ok-1', temperature: 1 }));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('');
    expect((await send('ok', { ...json({ deviceName: 'ok-2' }), query: '?empty=1' })).status).toBe(204);
  });

  it('answers 400 with a JSON error when the converter throws', async () => {
    const res = await send('plain', { ...json({ deviceName: 'bad-1' }), query: '?fail=1' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'CONVERTER_THREW', message: expect.stringContaining('converter says no') });
    expect((await api('/devices/bad-1')).status).toBe(404);
  });

  it('dead-letters a record whose name or key is over the limit, with the reason, and stores the next message', async () => {
    const longName = 'n'.repeat(100_000);
    const res = await send('long-names', json({ deviceName: longName, temperature: 1 }));
    expect(res.status).toBe(400);
    const error = (await res.json()) as { error: string; message: string; path: string };
    expect(error).toMatchObject({ error: 'CONVERTER_INVALID_OUTPUT', path: 'deviceName' });
    expect(error.message).toMatch(/^deviceName: too long: 100000 characters, at most 255 \(ThingsBoard's limit for names\)/);
    expect(error.message.length).toBeLessThan(200);
    const letters = await api('/dead-letters?integration=long-names');
    const letter = (letters.body.items as Array<{ error: { message: string } }>).find((l) => l.error.message.startsWith('deviceName: too long'));
    expect(letter).toBeDefined();
    expect((await api(`/devices/${longName.slice(0, 255)}`)).status).toBe(404);
    // The stream goes on: the next message is stored.
    expect((await send('long-names', json({ deviceName: 'after-long', temperature: 2 }))).status).toBe(204);
    expect(await latest('after-long')).toMatchObject({ temperature: { value: 2 } });
  });

  it('answers a converter that returns rpcReplies with the name it meant (rpcReply)', async () => {
    const res = await send('plain', { ...json({ deviceName: 'replier' }), query: '?replies=1' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: 'CONVERTER_INVALID_OUTPUT',
      path: 'rpcReplies',
      message: 'rpcReplies: unknown field rpcReplies — did you mean rpcReply?',
    });
  });

  it('enforces the headers filter (403)', async () => {
    expect((await send('headers', json({ deviceName: 'hf-1' }))).status).toBe(403);
    expect((await send('headers', { ...json({ deviceName: 'hf-1' }), headers: { 'content-type': 'application/json', 'x-api-key': 'wrong' } })).status).toBe(
      403,
    );
    expect((await send('headers', { ...json({ deviceName: 'hf-1' }), headers: { 'content-type': 'application/json', 'x-api-key': 'e2e-key' } })).status).toBe(
      204,
    );
  });

  it('checks HMAC signatures: good 204, bad 401, stale 401', async () => {
    const body = JSON.stringify({ deviceName: 'hmac-1', temperature: 5 });
    const signed = (ts: string, secret = HMAC_SECRET) => ({
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-timestamp': ts,
        'x-signature': `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`,
      },
    });
    const now = String(Math.floor(Date.now() / 1000));
    expect((await send('hmac', signed(now))).status).toBe(204);
    const bad = await send('hmac', signed(now, 'not-the-secret'));
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: 'BAD_SIGNATURE', message: 'bad-signature' });
    const stale = await send('hmac', signed(String(Math.floor(Date.now() / 1000) - 600)));
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ message: 'stale-timestamp' });
    expect((await send('hmac', { ...json({ deviceName: 'hmac-1' }) })).status).toBe(401);
  });

  it('refuses an exact replay of a signed request with 409 and stores it once', async () => {
    const body = JSON.stringify({ deviceName: 'hmac-replay', temperature: 6 });
    const ts = String(Math.floor(Date.now() / 1000));
    const request = () => ({
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-timestamp': ts,
        'x-signature': `sha256=${createHmac('sha256', HMAC_SECRET).update(`${ts}.${body}`).digest('hex')}`,
      },
    });
    expect((await send('hmac', request())).status).toBe(204);
    const replay = await send('hmac', request());
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ error: 'REPLAYED', message: expect.stringContaining('already accepted within the last 60 s') });
    const history = await api(`/devices/hmac-replay/telemetry/temperature?from=0&to=${Date.now() + 60_000}`);
    expect(history.status).toBe(200);
    expect(history.body).toHaveLength(1);
  });

  it('enforces the IP allowlist (403 outside it)', async () => {
    expect((await send('deny-ip', json({ deviceName: 'ip-1' }))).status).toBe(403);
    expect((await send('allow-ip', json({ deviceName: 'ip-1' }))).status).toBe(204);
  });

  it('refuses a body over maxBodyBytes with 413', async () => {
    expect((await send('small', { body: 'x'.repeat(64), query: '?device=s-1', headers: { 'content-type': 'text/plain' } })).status).toBe(204);
    expect((await send('small', { body: 'x'.repeat(65), query: '?device=s-2', headers: { 'content-type': 'text/plain' } })).status).toBe(413);
  });

  it('rate limits with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await send('limited', json({ deviceName: 'rl-1' }));
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([204, 204, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('delivers downlinks (RPC text, JSON, binary; shared attributes) in the next uplink response', async () => {
    expect((await send('plain', json({ deviceName: 'sync-1', temperature: 1 }))).status).toBe(204);
    expect((await rpc('sync-1', { method: 'display', params: { kind: 'text', text: 'LED ON' } })).status).toBe(200);
    expect((await rpc('sync-1', { method: 'reboot', params: { delay: 5 } })).status).toBe(200);
    expect((await rpc('sync-1', { method: 'raw', params: { kind: 'binary', base64: Buffer.from([1, 2, 255]).toString('base64') } })).status).toBe(200);

    // The host hands commands to the plugin asynchronously: poll with uplinks until one carries it.
    const first = await eventually(
      () => send('plain', json({ deviceName: 'sync-1' })),
      (r) => r.status === 200,
    );
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('text/plain');
    expect(await first.text()).toBe('LED ON');
    const second = await send('plain', json({ deviceName: 'sync-1' }));
    expect(second.status).toBe(200);
    expect(second.headers.get('content-type')).toBe('application/json');
    expect(await second.json()).toEqual({ method: 'reboot', params: { delay: 5 } });
    const third = await send('plain', json({ deviceName: 'sync-1' }));
    expect(third.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await third.arrayBuffer())]).toEqual([1, 2, 255]);
    expect((await send('plain', json({ deviceName: 'sync-1' }))).status).toBe(204);
    const statuses = await eventually(
      () => commands('sync-1'),
      (list) => list.every((c) => c.status === 'delivered'),
      10_000,
    );
    expect(statuses.map((c) => c.status)).toEqual(['delivered', 'delivered', 'delivered']);

    expect((await api('/devices/sync-1/attributes/shared', { method: 'POST', body: JSON.stringify({ interval: 30 }) })).status).toBe(200);
    const shared = await eventually(
      () => send('plain', json({ deviceName: 'sync-1' })),
      (r) => r.status === 200,
    );
    expect(await shared.json()).toMatchObject({ shared: { interval: 30 } });
  });

  it('sends outbound downlinks to the downlink URL, retrying after a failure', async () => {
    expect((await send('outbound', json({ deviceName: 'out 1', temperature: 3 }))).status).toBe(204);
    outboundScript.push(503);
    expect((await rpc('out 1', { method: 'open', params: { valve: 2 } })).status).toBe(200);
    await eventually(
      async () => received.length,
      (n) => n >= 2,
      15_000,
    );
    expect(received.map((r) => r.status)).toEqual([503, 200]);
    const last = received[1]!;
    expect(last.method).toBe('POST');
    expect(last.url).toBe('/down/out%201?eui=eui-out%201');
    expect(last.headers['content-type']).toBe('application/json');
    expect(last.headers['x-device']).toBe('out 1');
    expect(JSON.parse(last.body.toString())).toEqual({ method: 'open', params: { valve: 2 } });
    const list = await eventually(
      () => commands('out 1'),
      (l) => l[0]?.status === 'delivered',
      10_000,
    );
    expect(list[0]?.status).toBe('delivered');
  });

  it('answers 503 with Retry-After while the platform cannot store, and stores the message later', async () => {
    // Hold the database's write lock from outside: the platform's writes fail with SQLITE_BUSY
    // (retryable), the pipeline keeps retrying, and the request times out.
    const db = new DatabaseSync(path.join(dir, 'main-data', 'platform.db'));
    db.exec('BEGIN IMMEDIATE');
    let res: Response;
    try {
      res = await send('slow', json({ deviceName: 'late-1', temperature: 9 }));
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(await res.json()).toMatchObject({ error: 'UNAVAILABLE' });
    // At-least-once: the pipeline still stores it once the platform is back.
    const stored = await eventually(
      () => api('/devices/late-1/telemetry/latest'),
      (r) => r.status === 200,
      45_000,
    );
    expect(stored.body).toMatchObject({ temperature: { value: 9 } });
  }, 90_000);

  it('serves the endpoint over TLS (IPv6 loopback), with the IP allowlist matching ::1', async () => {
    const post = (name: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(`${tlsHost.url}${PREFIX}/e2e-${name}`);
        const req = httpsRequest(url, { method: 'POST', ca: tlsCert, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ deviceName: 'tls-1', temperature: 7 }));
      });
    expect(tlsHost.url).toMatch(/^https:\/\//);
    expect(await post('tls')).toBe(204);
    expect(await post('tls-deny')).toBe(403);
    // Plain HTTP is not served on the TLS port.
    await expect(fetch(`${tlsHost.url.replace('https:', 'http:')}${PREFIX}/e2e-tls`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});
