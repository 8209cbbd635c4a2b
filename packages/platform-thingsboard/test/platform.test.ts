import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRetryable, type DeviceRecord, type IngestItem, type PlatformCommand } from '@tbi/plugin-api';
// By path, not by package: the testkit depends on the host, which depends on this package.
import { startGatewayTestServer, type GatewayTestServer } from '../../plugin-testkit/src/thingsboard/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { isAuthRefusal, openThingsBoardPlatform, type ThingsBoardPlatform } from '../src/index.js';

const TOKEN = 'gw-test-token';
const dirs: string[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tbi-tb-'));
  dirs.push(dir);
  return dir;
}

async function server(options: Partial<Parameters<typeof startGatewayTestServer>[0]> = {}): Promise<GatewayTestServer> {
  const tb = await startGatewayTestServer({ accessToken: TOKEN, ...options });
  closers.push(() => tb.stop());
  return tb;
}

async function platform(tb: GatewayTestServer, dir: string, extra: object = {}): Promise<ThingsBoardPlatform> {
  const p = await openThingsBoardPlatform({
    host: '127.0.0.1',
    port: tb.port,
    accessToken: TOKEN,
    dataDir: dir,
    reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
    ...extra,
  });
  closers.push(() => p.close());
  return p;
}

const record = (device: string, seq: number, type = 'thermometer'): DeviceRecord => ({
  entityType: 'DEVICE',
  deviceName: device,
  deviceType: type,
  attributes: {},
  telemetry: [{ ts: 1_700_000_000_000 + seq, values: { seq } }],
});
const items = (from: number, to: number, devices = 10): IngestItem[] =>
  Array.from({ length: to - from }, (_, i) => ({ integration: 'it', sourceId: `s${from + i}`, records: [record(`dev-${(from + i) % devices}`, from + i)] }));

function storedSeqs(tb: GatewayTestServer): number[] {
  return tb
    .allTelemetry()
    .map((s) => s.values.seq as number)
    .sort((a, b) => a - b);
}

describe('ThingsBoard platform client against the gateway test server', () => {
  it('connects each device with its type before its data, packs many devices per message, keeps values and timestamps', async () => {
    const tb = await server();
    const p = await platform(tb, dataDir());
    await p.ingest([{ integration: 'it', records: [record('a', 1, 'meter'), { ...record('b', 2), attributes: { fw: '1.2' } }] }]);
    await tb.waitFor(() => tb.device('b')?.attributes.fw !== undefined && tb.allTelemetry().length === 2);
    expect(tb.device('a')).toMatchObject({ type: 'meter', connected: true, connects: 1 });
    expect(tb.device('b')?.type).toBe('thermometer');
    expect(tb.device('a')?.telemetry).toEqual([{ ts: 1_700_000_000_001, values: { seq: 1 } }]);
    // ThingsBoard casts numeric strings: the test server does as the server does.
    expect(tb.device('b')?.attributes).toEqual({ fw: 1.2 });
    expect(tb.refusals).toEqual([]);
  });

  it('refuses a wrong token with an error naming the server and the cause', async () => {
    const tb = await server();
    const error = await openThingsBoardPlatform({ host: '127.0.0.1', port: tb.port, accessToken: 'wrong', dataDir: dataDir() }).catch((e: unknown) => e);
    expect(isAuthRefusal(error)).toBe(true);
    expect((error as Error).message).toContain(`mqtt://127.0.0.1:${tb.port}`);
    expect((error as Error).message).toContain('not authorized');
  });

  it('connects over TLS with a client certificate (X.509), verifying the server against the CA', async () => {
    const certs = path.resolve(import.meta.dirname, '../../../.cache/mosquitto/certs');
    const pem = (name: string) => readFileSync(path.join(certs, name));
    const tb = await server({ tls: { key: pem('server.key'), cert: pem('server.crt'), ca: pem('ca.crt'), requestCert: true } });
    const p = await platform(tb, dataDir(), { tls: { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') } });
    await p.ingest([{ integration: 'it', records: [record('secure', 1)] }]);
    await tb.waitFor(() => tb.device('secure')?.telemetry.length === 1);
    // Without the client certificate the TLS handshake fails: not a refused token, so open() goes on and retries.
    const bare = await platform(tb, dataDir(), { tls: { ca: pem('ca.crt') } });
    expect(bare.state.connected).toBe(false);
  });

  it('skips a redelivered sourceId in the outbox transaction', async () => {
    const tb = await server();
    const p = await platform(tb, dataDir());
    expect(await p.ingest(items(0, 5))).toEqual({ stored: 5, duplicates: 0 });
    expect(await p.ingest(items(3, 8))).toEqual({ stored: 3, duplicates: 2 });
    await tb.waitFor(() => tb.allTelemetry().length === 8);
    expect(storedSeqs(tb)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(tb.samplesReceived).toBe(8);
  });

  it('keeps records while ThingsBoard is down and delivers all of 10 000 once it is back', async () => {
    const tb = await server();
    const dir = dataDir();
    const p = await platform(tb, dir);
    await p.ingest(items(0, 2000));
    await tb.stop();
    for (let i = 2000; i < 10_000; i += 1000) await p.ingest(items(i, i + 1000));
    expect(p.outbox.size).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
    await tb.listen();
    await tb.waitFor(() => tb.allTelemetry().length === 10_000, 30_000, '10 000 samples');
    expect(storedSeqs(tb)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    await tb.waitFor(() => p.outbox.size === 0, 5000, 'an empty outbox');
  });

  it('survives a restart of the client: the outbox is reopened and forwarded, connected devices are re-connected', async () => {
    const tb = await server();
    const dir = dataDir();
    const first = await platform(tb, dir);
    await first.ingest(items(0, 10, 2));
    await tb.waitFor(() => tb.allTelemetry().length === 10);
    tb.setAckMode('stall');
    await first.ingest(items(10, 20, 2));
    await first.close();
    tb.setAckMode('normal');
    const second = await platform(tb, dir);
    await tb.waitFor(() => second.outbox.size === 0, 10_000, 'the reopened outbox to drain');
    expect(storedSeqs(tb)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(tb.device('dev-0')!.connects).toBeGreaterThanOrEqual(2);
  });

  it('backs off on a quota-exceeded PUBACK (MQTT 5) and closed connection, and loses nothing', async () => {
    const tb = await server({ rateLimits: { messages: [{ count: 5, seconds: 1 }] }, reportRateLimits: false });
    const p = await platform(tb, dataDir(), { protocolVersion: 5 });
    for (let i = 0; i < 300; i += 10) await p.ingest(items(i, i + 10, 10));
    await tb.waitFor(() => tb.allTelemetry().length === 300, 50_000, '300 samples');
    expect(storedSeqs(tb)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(tb.refusals.some((r) => r.code === 0x97)).toBe(true);
    // Backoff, not a reconnect loop: far fewer sessions than refused attempts could make.
    expect(tb.connections).toBeLessThan(40);
  }, 60_000);

  it('paces under announced rate limits: no refusals', async () => {
    const tb = await server({ rateLimits: { messages: [{ count: 50, seconds: 1 }] } });
    const p = await platform(tb, dataDir(), { protocolVersion: 5 });
    for (let i = 0; i < 200; i += 10) await p.ingest(items(i, i + 10, 20));
    await tb.waitFor(() => tb.allTelemetry().length === 200, 30_000, '200 samples');
    expect(tb.refusals).toEqual([]);
  });

  it('splits messages under maxPayloadSize', async () => {
    const tb = await server({ maxPayloadSize: 2000 });
    const p = await platform(tb, dataDir());
    await p.ingest(items(0, 500, 50));
    await tb.waitFor(() => tb.allTelemetry().length === 500, 20_000);
    expect(tb.refusals).toEqual([]);
    expect(tb.publishes).toBeGreaterThan(20);
  });

  it('turns RPCs into commands and sends a two-way reply with the request id; attribute updates too', async () => {
    const tb = await server();
    const p = await platform(tb, dataDir());
    await p.ingest([{ integration: 'mqtt-in', records: [record('valve', 1, 'valve')] }]);
    await tb.waitFor(() => tb.device('valve')?.connected === true);
    const commands: PlatformCommand[] = [];
    p.onCommand((c) => commands.push(c));
    const reply = tb.rpc('valve', 'open', { pct: 50 });
    await tb.waitFor(() => commands.length === 1);
    expect(commands[0]).toMatchObject({
      deviceName: 'valve',
      integration: 'mqtt-in',
      msgType: 'RPC_CALL_FROM_SERVER_TO_DEVICE',
      msg: { method: 'open', params: { pct: 50 } },
    });
    await p.ingest([
      {
        integration: 'mqtt-in',
        records: [{ ...record('valve', 2, 'valve'), rpcReplies: [{ requestId: commands[0]!.metadata.requestUUID!, response: { ok: 1 } }] }],
      },
    ]);
    expect(await reply).toEqual({ ok: 1 });
    tb.updateAttributes('valve', { target: 21 });
    await tb.waitFor(() => commands.length === 2);
    expect(commands[1]).toMatchObject({ msgType: 'ATTRIBUTES_UPDATED', msg: { target: 21 }, metadata: { deviceName: 'valve', deviceType: 'valve' } });
  });

  it('disconnects devices idle longer than deviceIdleMs, and connects them again with their next data', async () => {
    const tb = await server();
    const p = await platform(tb, dataDir(), { deviceIdleMs: 300 });
    await p.ingest([{ integration: 'it', records: [record('sleepy', 1)] }]);
    await tb.waitFor(() => tb.device('sleepy')?.connected === true);
    await tb.waitFor(() => tb.device('sleepy')?.connected === false, 5000, 'the idle disconnect');
    await p.ingest([{ integration: 'it', records: [record('sleepy', 2)] }]);
    await tb.waitFor(() => tb.device('sleepy')?.telemetry.length === 2);
    expect(tb.device('sleepy')).toMatchObject({ connected: true, connects: 2 });
  });

  it('answers attribute requests: shared attributes set by the server, client attributes sent before', async () => {
    const tb = await server();
    const p = await platform(tb, dataDir());
    await p.ingest([{ integration: 'it', records: [{ ...record('thermo', 1), attributes: { fw: 'v2', mode: 'eco' } }] }]);
    await tb.waitFor(() => tb.device('thermo')?.attributes.mode === 'eco');
    tb.updateAttributes('thermo', { target: 21, window: 'open' });
    expect(await p.requestAttributes('thermo', ['target'])).toEqual({ target: 21 });
    expect(await p.requestAttributes('thermo', ['target', 'window', 'missing'])).toEqual({ target: 21, window: 'open' });
    expect(await p.requestAttributes('thermo', ['mode'], { client: true })).toEqual({ mode: 'eco' });
  });

  it('connects a device again after ThingsBoard dropped its session (v1/gateway/disconnect, reason 150)', async () => {
    const tb = await server();
    const p = await platform(tb, dataDir(), { protocolVersion: 5 });
    await p.ingest([{ integration: 'it', records: [record('dropped', 1)] }]);
    await tb.waitFor(() => tb.device('dropped')?.telemetry.length === 1);
    tb.dropDevice('dropped');
    await new Promise((r) => setTimeout(r, 100));
    await p.ingest([{ integration: 'it', records: [record('dropped', 2)] }]);
    await tb.waitFor(() => tb.device('dropped')?.telemetry.length === 2);
    expect(tb.device('dropped')).toMatchObject({ connected: true, connects: 2 });
  });

  it('strict mode resolves only after the PUBACK', async () => {
    const tb = await server({ ackMode: 'stall' });
    const p = await platform(tb, dataDir(), { delivery: 'strict' });
    let done = false;
    const ingest = p.ingest(items(0, 3)).then(() => {
      done = true;
    });
    await tb.waitFor(() => tb.allTelemetry().length === 3);
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(false);
    tb.setAckMode('normal');
    await ingest;
    expect(done).toBe(true);
  });

  it('reports the outbox, the session and acknowledged rows as metrics', async () => {
    const values = new Map<string, number>();
    const metric = (name: string) => ({
      set: (_l: object, v: number) => values.set(name, v),
      inc: (_l?: object, v = 1) => values.set(name, (values.get(name) ?? 0) + v),
      dec: () => {},
    });
    const metrics = { gauge: metric, counter: metric, histogram: () => ({ observe() {} }) };
    const tb = await server();
    const p = await platform(tb, dataDir(), { metrics });
    await p.ingest(items(0, 50));
    await tb.waitFor(() => values.get('tbi_thingsboard_acked_records_total') === 50, 10_000, '50 acknowledged rows');
    expect(values.get('tbi_thingsboard_connected')).toBe(1);
    expect(values.get('tbi_thingsboard_outbox_records')).toBe(0);
  });

  it('splits a record with many samples into rows that fit, and refuses a single sample too large for any message', async () => {
    const tb = await server();
    const p = await platform(tb, dataDir());
    const samples = Array.from({ length: 400 }, (_, i) => ({ ts: 1_700_000_000_000 + i, values: { seq: i, pad: 'x'.repeat(200) } }));
    await p.ingest([{ integration: 'it', records: [{ entityType: 'DEVICE', deviceName: 'bulk', deviceType: 't', attributes: {}, telemetry: samples }] }]);
    await tb.waitFor(() => tb.device('bulk')?.telemetry.length === 400, 10_000, '400 samples');
    expect(tb.refusals).toEqual([]);
    const huge = [{ ts: 1, values: { blob: 'y'.repeat(60_000) } }];
    const error = await p
      .ingest([{ integration: 'it', records: [{ entityType: 'DEVICE', deviceName: 'huge', deviceType: 't', attributes: {}, telemetry: huge }] }])
      .catch((e: unknown) => e);
    expect(isRetryable(error)).toBe(false);
    expect((error as Error).message).toContain('ThingsBoard takes at most');
  });

  it('refuses integers ThingsBoard cannot store, and moves a message ThingsBoard refuses (0x99) aside instead of stalling', async () => {
    const tb = await server();
    const p = await platform(tb, dataDir(), { protocolVersion: 5 });
    const big = await p.ingest([{ integration: 'it', records: [{ ...record('big', 1), attributes: { n: 1e20 } }] }]).catch((e: unknown) => e);
    expect(isRetryable(big)).toBe(false);
    expect((big as Error).message).toContain('beyond 64 bits');
    // A fractional ts passes the client but not JsonConverter (getAsLong of "1.5" fails). It is
    // packed with good rows of other devices: those are delivered, only the bad row is set aside.
    await p.close();
    const dir = dataDir();
    const offline = await openThingsBoardPlatform({ host: '127.0.0.1', port: 1, accessToken: TOKEN, dataDir: dir, connectTimeoutMs: 200 });
    await offline.ingest([
      ...items(0, 3),
      { integration: 'it', records: [{ ...record('bad', 1), telemetry: [{ ts: 1.5, values: { v: 1 } }] }] },
      ...items(3, 5),
    ]);
    await offline.close();
    const q = await platform(tb, dir, { protocolVersion: 5 });
    await tb.waitFor(() => q.outbox.refused().length === 1 && tb.allTelemetry().length === 5, 15_000, 'the good rows and the refused one');
    expect(q.outbox.refused()[0]).toMatchObject({ device: 'bad', reason: 'payload format invalid (0x99)' });
    expect(storedSeqs(tb)).toEqual([0, 1, 2, 3, 4]);
  });

  it('applies back-pressure when the outbox is full instead of dropping', async () => {
    const tb = await server();
    await tb.stop();
    const p = await platform(tb, dataDir(), { outboxMaxRecords: 5 });
    await p.ingest(items(0, 5));
    const error = await p.ingest(items(5, 6)).catch((e: unknown) => e);
    expect((error as Error).message).toContain('outbox is full');
  });
});
