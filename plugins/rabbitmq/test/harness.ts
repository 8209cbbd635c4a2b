// Helpers for tests against the real RabbitMQ node of scripts/brokers/rabbitmq.sh: start it,
// publish with confirms, read queues, and count what a host stored in its SQLite database.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { storedTelemetry, waitFor as testkitWaitFor } from '@tbi/plugin-testkit';
import amqp from 'amqplib';
import { rabbitmqPorts } from '../../../scripts/ports.mjs';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');
// The shared node's ports: scripts/ports.env, or the environment scripts/test.sh sets up.
export const AMQP_PORT = rabbitmqPorts().amqp;
export const AMQPS_PORT = rabbitmqPorts().tls;
export const CERTS = path.join(ROOT, '.cache/rabbitmq/certs');
export const URL = `amqp://tbi:tbi-secret@127.0.0.1:${AMQP_PORT}`;

/** Runs scripts/brokers/rabbitmq.sh for one node instance (the default one without env). */
export async function brokerScript(command: 'start' | 'stop' | 'restart', env: Record<string, string> = {}): Promise<void> {
  await promisify(execFile)(path.join(ROOT, 'scripts/brokers/rabbitmq.sh'), [command], { env: { ...process.env, ...env }, timeout: 240_000 });
}

let counter = 0;
/** A name no other test uses. */
export function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

export interface TestMessage {
  body: string;
  routingKey?: string;
  headers?: Record<string, string | number>;
  messageId?: string;
}

/** `count` messages `{"p": prefix, "n": from+i}` with message ids `<prefix>-<n>`. */
export function numbered(prefix: string, count: number, from = 0): TestMessage[] {
  return Array.from({ length: count }, (_, i) => ({ body: JSON.stringify({ p: prefix, n: from + i }), messageId: `${prefix}-${from + i}` }));
}

/** Opens a connection and a confirm channel, runs `fn`, closes both. */
export async function withChannel<T>(fn: (ch: amqp.ConfirmChannel) => Promise<T>, url = URL): Promise<T> {
  const conn = await Promise.race([
    amqp.connect(url, { timeout: 5000 }),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('test connection: no handshake within 10 s')), 10_000)),
  ]);
  conn.on('error', () => {}); // 'close' follows; pending calls reject
  try {
    const ch = await conn.createConfirmChannel();
    return await fn(ch);
  } finally {
    await conn.close().catch(() => {});
  }
}

/** Publishes persistent messages and waits for the broker's confirms (in chunks of 1000). */
export async function publish(exchange: string, routingKey: string, messages: TestMessage[], url = URL): Promise<void> {
  await withChannel(async (ch) => {
    for (let i = 0; i < messages.length; i += 1000) {
      for (const m of messages.slice(i, i + 1000)) {
        ch.publish(exchange, m.routingKey ?? routingKey, Buffer.from(m.body), {
          persistent: true,
          contentType: 'application/json',
          ...(m.messageId ? { messageId: m.messageId } : {}),
          ...(m.headers ? { headers: m.headers } : {}),
        });
      }
      await ch.waitForConfirms();
    }
  }, url);
}

/**
 * Publishes through broker restarts: a chunk whose confirms did not arrive is published again
 * on a new connection (the consumer's `messageIdIsUnique` keeps the repeats out of the store).
 */
export async function publishResilient(exchange: string, routingKey: string, messages: TestMessage[], url = URL, pauseMs = 0): Promise<void> {
  for (let i = 0; i < messages.length; ) {
    try {
      await withChannel(async (ch) => {
        ch.on('error', () => {});
        for (; i < messages.length; i += 100) {
          for (const m of messages.slice(i, i + 100)) {
            ch.publish(exchange, m.routingKey ?? routingKey, Buffer.from(m.body), {
              persistent: true,
              messageId: m.messageId,
              ...(m.headers ? { headers: m.headers } : {}),
            });
          }
          await Promise.race([ch.waitForConfirms(), new Promise((_, reject) => setTimeout(() => reject(new Error('no confirms within 15 s')), 15_000))]);
          if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
      }, url);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Ready (not delivered) messages of a queue. */
export async function readyCount(queue: string, url = URL): Promise<number> {
  return withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount, url);
}

/** Takes up to `count` messages from a queue (basic.get, acked), waiting up to `timeoutMs`. */
export async function take(queue: string, count: number, timeoutMs = 30_000): Promise<amqp.GetMessage[]> {
  return withChannel(async (ch) => {
    const got: amqp.GetMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    while (got.length < count && Date.now() < deadline) {
      const m = await ch.get(queue, { noAck: true });
      if (m === false) await new Promise((resolve) => setTimeout(resolve, 100));
      else got.push(m);
    }
    return got;
  });
}

export async function deleteQueues(...queues: string[]): Promise<void> {
  await withChannel(async (ch) => {
    for (const q of queues) await ch.deleteQueue(q).catch(() => {});
  }).catch(() => {});
}

export { withHostLogs } from '@tbi/plugin-testkit';

/** Polls `check` every 200 ms until it returns true (the testkit's `waitFor`, timeout first). */
export function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  return testkitWaitFor(check, what, timeoutMs, 200);
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
