import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryError, isRetryable, retry, type Logger, type OutboundDownlink } from '@tbi/plugin-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpConfigSchema } from './config.js';
import { outboundRetry, outboundSender } from './sink.js';

const silent: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: Server;
let base = '';
let seen: Seen[] = [];
/** Status codes the server answers, in order; 200 once exhausted. */
let script: Array<number | 'hang'> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const next = script.shift() ?? 200;
      if (next === 'hang') return;
      res.writeHead(next, next === 429 ? { 'retry-after': '1' } : {}).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  script = [];
});

const downlink: OutboundDownlink = {
  commandId: 'cmd-1',
  deviceName: 'dev 1',
  encoded: { contentType: 'BINARY', data: 'AAEC', metadata: { eui: 'ab/cd', token: 't0k' } },
  payload: new Uint8Array([0, 1, 2]),
};

function sender(downlinkConfig: Record<string, unknown>) {
  const config = httpConfigSchema.parse({ downlink: downlinkConfig }).downlink as ReturnType<typeof httpConfigSchema.parse>['downlink'] & { url: string };
  const controller = new AbortController();
  const send = outboundSender(config, { logger: silent, signal: controller.signal });
  /** Sends as the host does: its one retry loop, with this instance's `downlinkRetry`. */
  const sendRetrying = (d: OutboundDownlink, delays: number[] = []) => {
    const { attempts, ...backoff } = outboundRetry(config);
    return retry(() => send(d), { ...backoff, maxAttempts: attempts, random: () => 0.999999, onRetry: ({ delayMs }) => void delays.push(delayMs) });
  };
  return { send, sendRetrying, controller };
}

describe('outboundSender', () => {
  it('sends the payload with method, rendered URL and headers, and the content type', async () => {
    const { send } = sender({ url: `${base}/down/\${deviceName}/\${metadata.eui}`, method: 'PUT', headers: { Authorization: 'Bearer ${metadata.token}' } });
    await send(downlink);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/down/dev%201/ab%2Fcd' });
    expect(seen[0]?.headers.authorization).toBe('Bearer t0k');
    expect(seen[0]?.headers['content-type']).toBe('application/octet-stream');
    expect([...(seen[0]?.body ?? [])]).toEqual([0, 1, 2]);
  });

  it('makes one attempt per call; a 5xx or 429 is a retryable DeliveryError carrying Retry-After', async () => {
    script = [503, 429];
    const { send } = sender({ url: `${base}/x`, retries: 3 });
    const first = (await send(downlink).catch((e: unknown) => e)) as DeliveryError;
    expect(first).toBeInstanceOf(DeliveryError);
    expect(isRetryable(first)).toBe(true);
    const second = (await send(downlink).catch((e: unknown) => e)) as DeliveryError;
    expect(isRetryable(second)).toBe(true);
    expect(second.retryAfterMs).toBe(1000);
    expect(seen).toHaveLength(2);
  });

  it('hands its retry budget to the host: retries + 1 attempts, doubling from backoffMs, Retry-After honoured', async () => {
    expect(outboundRetry(httpConfigSchema.parse({ downlink: { retries: 2, backoffMs: 50, maxBackoffMs: 900 } }).downlink)).toEqual({
      attempts: 3,
      initialDelayMs: 50,
      maxDelayMs: 900,
      jitter: 0.2,
    });
    script = [503, 500, 429];
    const delays: number[] = [];
    const { sendRetrying } = sender({ url: `${base}/x`, retries: 3, backoffMs: 100, maxBackoffMs: 10_000 });
    await sendRetrying(downlink, delays);
    expect(seen).toHaveLength(4);
    // 100, 200, then max(400, Retry-After 1 s).
    expect(delays).toEqual([100, 200, 1000]);
  });

  it('gives up after the retries with the last DeliveryError', async () => {
    script = [500, 500, 500];
    const { sendRetrying } = sender({ url: `${base}/x?secret=1`, retries: 2, backoffMs: 1 });
    const error = await sendRetrying(downlink).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).context).toMatchObject({ status: 500, url: `${base}/x` });
    expect(seen).toHaveLength(3);
  });

  it('does not retry a 4xx other than 408/429', async () => {
    script = [404];
    const { sendRetrying } = sender({ url: `${base}/x`, retries: 5 });
    const error = (await sendRetrying(downlink).catch((e: unknown) => e)) as DeliveryError;
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('404');
    expect(seen).toHaveLength(1);
  });

  it('times out a request that hangs, retryably', async () => {
    script = ['hang'];
    const { sendRetrying } = sender({ url: `${base}/x`, retries: 1, timeoutMs: 200, backoffMs: 1 });
    await sendRetrying(downlink);
    expect(seen).toHaveLength(2);
  });

  it('fails on a connection error after the retries', async () => {
    const { sendRetrying } = sender({ url: 'http://127.0.0.1:1/x', retries: 1, backoffMs: 1 });
    const error = (await sendRetrying(downlink).catch((e: unknown) => e)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).toMatch(/downlink request failed/);
  });

  it('stops at once when the integration stops', async () => {
    const { send, controller } = sender({ url: `${base}/x` });
    controller.abort();
    const error = await send(downlink).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toMatch(/integration stopped/);
    expect(isRetryable(error)).toBe(false);
    expect(seen).toHaveLength(0);
  });

  it('sends no body with GET', async () => {
    const { send } = sender({ url: `${base}/x`, method: 'GET' });
    await send(downlink);
    expect(seen[0]?.method).toBe('GET');
    expect(seen[0]?.body.length).toBe(0);
  });
});
