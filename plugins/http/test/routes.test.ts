import { createHmac } from 'node:crypto';
import type { OutboundDownlink } from '@tbi/plugin-api';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type HarnessOptions } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness(options);
  return h;
}

const post = (body: RequestInit['body'], headers: Record<string, string> = {}, method = 'POST'): RequestInit => ({ method, body, headers });

const downlink = (deviceName: string, contentType: 'JSON' | 'TEXT' | 'BINARY', data: string): OutboundDownlink => ({
  commandId: `cmd-${Math.random()}`,
  deviceName,
  encoded: { contentType, data, metadata: {} },
  payload: contentType === 'BINARY' ? Buffer.from(data, 'base64') : Buffer.from(data, 'utf8'),
});

describe('HTTP uplink endpoint (in-process)', () => {
  it('answers GET and HEAD with 200, other methods with 405, and unknown keys are not matched', async () => {
    const t = await harness({ config: { routingKey: 'key-1' } });
    expect(t.routingKey).toBe('key-1');
    expect((await t.request('/key-1')).status).toBe(200);
    expect((await t.request('/key-1', { method: 'HEAD' })).status).toBe(200);
    expect((await t.request('/key-1/some/suffix')).status).toBe(200);
    for (const method of ['DELETE', 'PATCH', 'OPTIONS']) {
      const res = await t.request('/key-1', { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD, POST, PUT');
      expect(await res.json()).toEqual({ error: 'METHOD_NOT_ALLOWED', message: 'allowed methods: GET, HEAD, POST, PUT' });
    }
    expect((await t.request('/other-key', post('{}'))).status).toBe(404);
    expect(t.submitted).toHaveLength(0);
  });

  it('applies the IP allowlist and the headers filter to GET and HEAD status checks too', async () => {
    const t = await harness({ config: { routingKey: 'k', ipAllowlist: ['10.0.0.0/8'], headersFilter: { 'x-api-key': 'abc' } } });
    t.remoteAddress = '192.168.0.1';
    for (const method of ['GET', 'HEAD']) {
      expect((await t.request('/k', { method, headers: { 'x-api-key': 'abc' } })).status, method).toBe(403);
      expect((await t.request('/k/suffix', { method, headers: { 'x-api-key': 'abc' } })).status, method).toBe(403);
    }
    t.remoteAddress = '10.1.1.1';
    for (const method of ['GET', 'HEAD']) {
      expect((await t.request('/k', { method })).status, method).toBe(403);
      expect((await t.request('/k', { method, headers: { 'x-api-key': 'abd' } })).status, method).toBe(403);
      expect((await t.request('/k', { method, headers: { 'x-api-key': 'abc' } })).status, method).toBe(200);
    }
    const forbidden = await t.request('/k');
    expect(await forbidden.json()).toEqual({ error: 'FORBIDDEN', message: 'headers filter not met' });
  });

  it('answers status checks without a signature when HMAC is on: there is no body to sign', async () => {
    const t = await harness({ config: { routingKey: 'k', hmac: { header: 'x-signature', secret: 's' } } });
    expect((await t.request('/k')).status).toBe(200);
    expect((await t.request('/k', post('{}'))).status).toBe(401);
  });

  it('generates a UUID routing key when none is configured', async () => {
    const t = await harness();
    expect(t.routingKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await t.request(`/${t.routingKey}`, post('{"deviceName":"a"}'))).status).toBe(204);
  });

  it('passes JSON, text and binary bodies to the converter byte for byte', async () => {
    const t = await harness({ config: { routingKey: 'k' } });
    // The converter runs in the real isolated-vm sandbox.
    expect(t.sandboxKind).toBe('real');
    const json = '{"deviceName":"j","t":21.5}';
    const text = 'temp=21.5;hum=40 ü';
    const binary = new Uint8Array([0, 1, 2, 0xff, 0xfe, 0x80, 0x7f]);
    expect((await t.request('/k', post(json, { 'content-type': 'application/json' }))).status).toBe(204);
    expect((await t.request('/k?device=t', post(text, { 'content-type': 'text/plain' }))).status).toBe(204);
    expect((await t.request('/k?device=b', post(binary, { 'content-type': 'application/octet-stream' }))).status).toBe(204);
    expect(Buffer.from(t.submitted[0]!.payload).toString('utf8')).toBe(json);
    expect(Buffer.from(t.submitted[1]!.payload).toString('utf8')).toBe(text);
    expect([...t.submitted[2]!.payload]).toEqual([...binary]);
    expect(t.stored.map((r) => [r.deviceName, r.telemetry[0]?.values.bytes])).toEqual([
      ['j', json.length],
      ['t', Buffer.byteLength(text)],
      ['b', binary.length],
    ]);
  });

  it('gives the converter headers, query parameters, path suffix, address, method and integration name', async () => {
    const t = await harness({ config: { routingKey: 'k', headersFilter: { 'X-Api-Key': 's3cret' } }, metadata: { site: 'north' } });
    t.remoteAddress = '::ffff:10.1.2.3';
    const res = await t.request(
      '/k/lora/uplink?device=d1&tag=a&tag=b',
      post('x', { 'X-Api-Key': 's3cret', 'X-Custom': 'Value', 'content-type': 'text/plain' }, 'PUT'),
    );
    expect(res.status).toBe(204);
    const metadata = t.converterMetadata[0]!;
    expect(metadata).toMatchObject({
      'Header:x-custom': 'Value',
      'Header:content-type': 'text/plain',
      'Query:device': 'd1',
      'Query:tag': 'a,b',
      pathSuffix: 'lora/uplink',
      remoteAddress: '::ffff:10.1.2.3',
      httpMethod: 'PUT',
      integrationName: 'http-test',
      site: 'north',
    });
    // The headers filter's secret is not handed to converters (nor to debug events).
    expect(metadata['Header:x-api-key']).toBeUndefined();
  });

  it('answers 204, or 200 with replaceNoContentToOk; an empty converter result is 204', async () => {
    const t = await harness({ config: { routingKey: 'k' } });
    expect((await t.request('/k', post('{}'))).status).toBe(204);
    await t.stop();
    const ok = await harness({ config: { routingKey: 'k', replaceNoContentToOk: true } });
    const res = await ok.request('/k', post('{}'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect((await ok.request('/k?empty=1', post('{}'))).status).toBe(204);
    expect(ok.stored).toHaveLength(1);
  });

  it('answers 400 with a JSON error when the converter fails', async () => {
    const t = await harness({ config: { routingKey: 'k' } });
    const res = await t.request('/k?fail=1', post('{}'));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toMatchObject({ error: 'CONVERTER_THREW', message: expect.stringContaining('converter says no') });
    expect(t.stored).toHaveLength(0);
  });

  it('answers 503 with Retry-After when the platform does not store in time, or the host stops', async () => {
    const t = await harness({ config: { routingKey: 'k', responseTimeoutMs: 300, retryAfterSeconds: 7 } });
    t.platform = 'down';
    const res = await t.request('/k', post('{}'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(t.stored).toHaveLength(0);
    t.platform = 'shutdown';
    const stopping = await t.request('/k', post('{}'));
    expect(stopping.status).toBe(503);
    expect(stopping.headers.get('retry-after')).toBe('7');
  });

  it('answers 503 once the integration is stopped', async () => {
    const t = await harness({ config: { routingKey: 'k' } });
    await t.integration.stop();
    const res = await t.request('/k', post('{}'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(t.integration.health().status).toBe('stopped');
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    const t = await harness({ config: { routingKey: 'k', maxBodyBytes: 100 } });
    expect((await t.request('/k', post('x'.repeat(100)))).status).toBe(204);
    expect((await t.request('/k', post('x'.repeat(101)))).status).toBe(413);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(30));
        c.close();
      },
    });
    expect((await t.request('/k', { method: 'POST', body: stream, duplex: 'half' } as RequestInit)).status).toBe(413);
    expect(t.submitted).toHaveLength(1);
  });

  it('rate limits with 429 and Retry-After', async () => {
    let now = 1_000_000;
    const t = await harness({ config: { routingKey: 'k', rateLimit: { requestsPerSecond: 0.5, burst: 2 } }, now: () => now });
    expect((await t.request('/k', post('{}'))).status).toBe(204);
    expect((await t.request('/k', post('{}'))).status).toBe(204);
    const limited = await t.request('/k', post('{}'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    now += 2000;
    expect((await t.request('/k', post('{}'))).status).toBe(204);
  });

  it('enforces the headers filter with 403', async () => {
    const t = await harness({ config: { routingKey: 'k', headersFilter: { 'x-api-key': 'abc' } } });
    expect((await t.request('/k', post('{}'))).status).toBe(403);
    expect((await t.request('/k', post('{}', { 'x-api-key': 'abd' }))).status).toBe(403);
    expect((await t.request('/k', post('{}', { 'X-API-KEY': 'abc' }))).status).toBe(204);
    expect(t.submitted).toHaveLength(1);
  });

  it('checks HMAC signatures with 401: good, bad, stale', async () => {
    const secret = 'topsecret';
    const now = 1_700_000_000_000;
    const t = await harness({
      config: { routingKey: 'k', hmac: { header: 'X-Signature', secret, timestampHeader: 'X-Timestamp', toleranceSeconds: 60 } },
      now: () => now,
    });
    const body = '{"deviceName":"s"}';
    const sign = (ts: string) => createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
    const fresh = String(now / 1000);
    expect((await t.request('/k', post(body, { 'x-timestamp': fresh, 'x-signature': `sha256=${sign(fresh)}` }))).status).toBe(204);
    const bad = await t.request('/k', post(body, { 'x-timestamp': fresh, 'x-signature': sign(String(now / 1000 - 1)) }));
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: 'BAD_SIGNATURE', message: 'bad-signature' });
    const stale = String(now / 1000 - 120);
    const old = await t.request('/k', post(body, { 'x-timestamp': stale, 'x-signature': sign(stale) }));
    expect(old.status).toBe(401);
    expect(await old.json()).toMatchObject({ message: 'stale-timestamp' });
    expect(t.submitted).toHaveLength(1);
  });

  it('refuses an exact replay of a signed request inside the window with 409, and accepts it again once released or stale', async () => {
    const secret = 'topsecret';
    let now = 1_700_000_000_000;
    const t = await harness({
      config: { routingKey: 'k', hmac: { header: 'X-Signature', secret, timestampHeader: 'X-Timestamp', toleranceSeconds: 60 } },
      now: () => now,
    });
    const body = '{"deviceName":"r"}';
    const ts = String(now / 1000);
    const mac = createHmac('sha256', secret).update(`${ts}.${body}`);
    const digest = mac.digest();
    const headers = { 'x-timestamp': ts, 'x-signature': `sha256=${digest.toString('hex')}` };
    expect((await t.request('/k', post(body, headers))).status).toBe(204);
    const replay = await t.request('/k', post(body, headers));
    expect(replay.status).toBe(409);
    expect(await replay.json()).toEqual({
      error: 'REPLAYED',
      message: 'replayed-signature: a request with this signature was already accepted within the last 60 s',
    });
    // The same signature in another encoding is the same request.
    expect((await t.request('/k', post(body, { 'x-timestamp': ts, 'x-signature': digest.toString('base64') }))).status).toBe(409);
    expect(t.stored).toHaveLength(1);
    // A request that was not stored (503) may be retried as is.
    t.platform = 'shutdown';
    const other = String(now / 1000 + 1);
    const otherHeaders = { 'x-timestamp': other, 'x-signature': createHmac('sha256', secret).update(`${other}.${body}`).digest('hex') };
    expect((await t.request('/k', post(body, otherHeaders))).status).toBe(503);
    t.platform = 'up';
    expect((await t.request('/k', post(body, otherHeaders))).status).toBe(204);
    expect(t.stored).toHaveLength(2);
    // Past the window the timestamp is stale: 401, not a second store.
    now += 61_000;
    expect(await (await t.request('/k', post(body, headers))).json()).toMatchObject({ error: 'BAD_SIGNATURE', message: 'stale-timestamp' });
  });

  it('remembers signatures without a timestamp header for toleranceSeconds; replayProtection: false turns it off', async () => {
    const secret = 's';
    let now = 1_700_000_000_000;
    const body = '{"deviceName":"r"}';
    const headers = { 'x-signature': createHmac('sha256', secret).update(body).digest('hex') };
    const t = await harness({ config: { routingKey: 'k', hmac: { header: 'x-signature', secret, toleranceSeconds: 10 } }, now: () => now });
    expect((await t.request('/k', post(body, headers))).status).toBe(204);
    expect((await t.request('/k', post(body, headers))).status).toBe(409);
    now += 10_001;
    expect((await t.request('/k', post(body, headers))).status).toBe(204);
    await t.stop();
    const off = await harness({ config: { routingKey: 'k', hmac: { header: 'x-signature', secret, replayProtection: false } } });
    expect((await off.request('/k', post(body, headers))).status).toBe(204);
    expect((await off.request('/k', post(body, headers))).status).toBe(204);
  });

  it('enforces the IP allowlist with 403 (IPv4, IPv4-mapped, IPv6)', async () => {
    const t = await harness({ config: { routingKey: 'k', ipAllowlist: ['10.0.0.0/8', '2001:db8::/32'] } });
    t.remoteAddress = '192.168.0.1';
    expect((await t.request('/k', post('{}'))).status).toBe(403);
    t.remoteAddress = '::ffff:10.9.8.7';
    expect((await t.request('/k', post('{}'))).status).toBe(204);
    t.remoteAddress = '2001:db8::42';
    expect((await t.request('/k', post('{}'))).status).toBe(204);
    t.remoteAddress = '2001:db9::42';
    expect((await t.request('/k', post('{}'))).status).toBe(403);
  });

  it('without a downlink URL takes downlinks from the host queue (pull), with its per-device limit; with one, sends them (push)', async () => {
    const sync = await harness({ config: { routingKey: 'k', downlink: { maxPendingPerDevice: 7 } } });
    expect(sync.integration).toMatchObject({ downlinkMode: 'pull', downlinkPendingPerDevice: 7 });
    expect(sync.integration.send).toBeUndefined();
    const outbound = await harness({ config: { routingKey: 'k2', downlink: { url: 'http://127.0.0.1:1/down', retries: 4 } } });
    expect(outbound.integration).toMatchObject({ downlinkMode: 'push', downlinkRetry: { attempts: 5 } });
    expect(typeof outbound.integration.send).toBe('function');
  });

  it('delivers a pending downlink in the next uplink response, with its content type', async () => {
    const t = await harness({ config: { routingKey: 'k', replaceNoContentToOk: false } });
    t.hostPending.push(downlink('d1', 'JSON', '{"method":"reboot"}'), downlink('d1', 'TEXT', 'hello'));
    t.hostPending.push(downlink('d2', 'BINARY', Buffer.from([1, 2, 250]).toString('base64')));

    // Another device's uplink does not get d1's downlink.
    expect((await t.request('/k?device=d3', post('{}'))).status).toBe(204);
    const r1 = await t.request('/k?device=d1', post('{}'));
    expect(r1.status).toBe(200);
    expect(r1.headers.get('content-type')).toBe('application/json');
    expect(await r1.json()).toEqual({ method: 'reboot' });
    const r2 = await t.request('/k?device=d1', post('{}'));
    expect(r2.headers.get('content-type')).toContain('text/plain');
    expect(await r2.text()).toBe('hello');
    const r3 = await t.request('/k?device=d2', post('{}'));
    expect(r3.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await r3.arrayBuffer())]).toEqual([1, 2, 250]);
    expect((await t.request('/k?device=d1', post('{}'))).status).toBe(204);
  });

  it('counts responses by status', async () => {
    const t = await harness({ config: { routingKey: 'k', headersFilter: { 'x-k': 'v' } } });
    await t.request('/k', post('{}'));
    await t.request('/k', post('{}', { 'x-k': 'v' }));
    expect(t.metrics.values.get('tbi_http_uplink_requests_total{"status":"403"}')).toBe(1);
    expect(t.metrics.values.get('tbi_http_uplink_requests_total{"status":"204"}')).toBe(1);
  });
});
