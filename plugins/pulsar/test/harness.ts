// Helpers for tests against the real Pulsar standalone of scripts/brokers/pulsar.sh: start an
// instance, produce and read with the WebSocket API directly (not through the plugin), sign
// JWTs with an instance's secret, and count what a host stored in its SQLite database.
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { storedTelemetry, waitFor as testkitWaitFor } from '@tbi/plugin-testkit';
import WebSocket from 'ws';
import { pulsarPorts } from '../../../scripts/ports.mjs';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');
export const SHARED = pulsarPorts();
export const WEB_URL = SHARED.webServiceUrl;
/** The CA of every instance's TLS web service (made once by pulsar.sh). */
export const CERTS = path.join(ROOT, '.cache/pulsar/certs');

export interface Instance {
  web: number;
  webServiceUrl: string;
  env: Record<string, string>;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** The folder of the instance's conf, secret and log. */
  state: string;
}

/** A broker instance of scripts/brokers/pulsar.sh (the shared one without arguments). */
export function instance(baseName?: string, name = 'default', options: { auth?: 'token' } = {}): Instance {
  const ports = pulsarPorts(baseName, name, options);
  const run = (command: string) =>
    promisify(execFile)(path.join(ROOT, 'scripts/brokers/pulsar.sh'), [command], { env: { ...process.env, ...ports.env }, timeout: 300_000 }).then(() => {});
  return {
    web: ports.web,
    webServiceUrl: ports.webServiceUrl,
    env: ports.env,
    start: () => run('start'),
    stop: () => run('stop'),
    restart: () => run('restart'),
    state: path.join(process.env.TBI_BROKER_STATE_DIR ?? path.join(ROOT, '.cache'), 'pulsar', name),
  };
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** An HS256 JWT signed with an instance's secret (`<state>/token-secret.b64`). */
export function jwt(state: string, sub: string, options: { expiresInSec?: number; secret?: Buffer } = {}): string {
  const secret = options.secret ?? Buffer.from(readFileSync(path.join(state, 'token-secret.b64'), 'utf8').trim(), 'base64');
  const claims: Record<string, unknown> = { sub };
  if (options.expiresInSec !== undefined) claims.exp = Math.floor(Date.now() / 1000) + options.expiresInSec;
  const body = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

let counter = 0;
/** A name no other test uses. */
export function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

export const topicOf = (name: string) => `persistent://public/default/${name}`;
const wsPath = (topic: string) => topic.replace('://', '/');

function connect(url: string, token?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

export interface TestMessage {
  payload: string;
  key?: string;
  properties?: Record<string, string>;
}

/** Produces messages (pipelined, at most 500 unacknowledged) and waits for every broker acknowledgement. */
export async function produce(topic: string, messages: (TestMessage | string)[], options: { webServiceUrl?: string; token?: string } = {}): Promise<void> {
  const ws = await connect(`${(options.webServiceUrl ?? WEB_URL).replace(/^http/, 'ws')}/ws/v2/producer/${wsPath(topic)}`, options.token);
  try {
    let acked = 0;
    let sent = 0;
    await new Promise<void>((resolve, reject) => {
      const pump = () => {
        while (sent < messages.length && sent - acked < 500) {
          const m = messages[sent]!;
          const msg = typeof m === 'string' ? { payload: m } : m;
          ws.send(
            JSON.stringify({
              payload: Buffer.from(msg.payload).toString('base64'),
              context: String(sent),
              ...(msg.key ? { key: msg.key } : {}),
              ...(msg.properties ? { properties: msg.properties } : {}),
            }),
          );
          sent++;
        }
        if (acked === messages.length) resolve();
      };
      ws.on('message', (data: Buffer) => {
        const reply = JSON.parse(data.toString()) as { result: string; errorMsg?: string };
        if (reply.result !== 'ok') return reject(new Error(`produce: ${reply.errorMsg ?? reply.result}`));
        acked++;
        pump();
      });
      ws.once('close', () => reject(new Error('producer connection closed')));
      pump();
    });
  } finally {
    ws.close();
  }
}

/** Produces through broker restarts: a chunk not acknowledged is produced again (sourceId differs, so payloads carry their own ids). */
export async function produceResilient(
  topic: string,
  messages: string[],
  options: { webServiceUrl?: string; chunk?: number; pauseMs?: number } = {},
): Promise<void> {
  const chunk = options.chunk ?? 100;
  for (let i = 0; i < messages.length; ) {
    try {
      await Promise.race([
        produce(topic, messages.slice(i, i + chunk), options),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no acks within 15 s')), 15_000)),
      ]);
      i += chunk;
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** A consumer that keeps what it receives (acknowledging it); create it before messages arrive. */
export async function listen(topic: string, subscription: string, options: { webServiceUrl?: string; token?: string } = {}) {
  const url = `${(options.webServiceUrl ?? WEB_URL).replace(/^http/, 'ws')}/ws/v2/consumer/${wsPath(topic)}/${subscription}?subscriptionType=Exclusive`;
  const ws = await connect(url, options.token);
  const received: { payload: string; key?: string; properties: Record<string, string> }[] = [];
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as { messageId: string; payload: string; key?: string; properties?: Record<string, string> };
    received.push({ payload: Buffer.from(m.payload, 'base64').toString(), ...(m.key ? { key: m.key } : {}), properties: m.properties ?? {} });
    ws.send(JSON.stringify({ messageId: m.messageId }));
  });
  return { received, close: () => ws.close() };
}

/** Messages `{"p": prefix, "n": from+i}`. */
export function numbered(prefix: string, count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => JSON.stringify({ p: prefix, n: from + i }));
}

/** Telemetry rows of key `n` stored for devices whose name starts with `prefix` (a repeat counts twice). */
export function storedRows(dataDir: string, prefix: string): number {
  return storedTelemetry(dataDir, 'n', { prefix }).length;
}

/** The `n` values stored for devices starting with `prefix` (with repeats when `all`). */
export function storedValues(dataDir: string, prefix: string, all = false): number[] {
  const values = storedTelemetry(dataDir, 'n', { prefix });
  return all ? values : [...new Set(values)];
}

/** Polls `check` every 100 ms until it returns true (the testkit's `waitFor`, timeout first). */
export function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  return testkitWaitFor(check, what, timeoutMs, 100);
}
