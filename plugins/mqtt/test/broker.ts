// The real Mosquitto of the project (scripts/brokers/mosquitto.sh) for tests: the shared one, and
// private instances on other ports for tests that restart their broker, so a restart never
// disturbs test files running in parallel. Ports come from scripts/ports.mjs (the environment
// scripts/test.sh sets up, else the defaults in scripts/ports.env).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { mosquittoPorts } from '../../../scripts/ports.mjs';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const SCRIPT = path.join(ROOT, 'scripts', 'brokers', 'mosquitto.sh');
export const CERTS = path.join(ROOT, '.cache', 'mosquitto', 'certs');

const run = promisify(execFile);

/** Ports of one broker instance. */
export interface BrokerPorts {
  plain: number;
  auth: number;
  tls: number;
}

export const SHARED_PORTS: BrokerPorts = mosquittoPorts();

/** A broker instance the script manages. */
export interface Broker {
  ports: BrokerPorts;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** The shared broker, or (with a name and ports) a private one. */
export function broker(instance = 'default', ports: BrokerPorts = SHARED_PORTS): Broker {
  const env = {
    ...process.env,
    MOSQUITTO_INSTANCE: instance,
    MOSQUITTO_PLAIN_PORT: String(ports.plain),
    MOSQUITTO_AUTH_PORT: String(ports.auth),
    MOSQUITTO_TLS_PORT: String(ports.tls),
  };
  const call = async (cmd: string) => {
    await run(SCRIPT, [cmd], { env, timeout: 120_000 });
  };
  return { ports, start: () => call('start'), stop: () => call('stop'), restart: () => call('restart') };
}

/** Connects a plain test client (publisher or subscriber) and waits for CONNACK. */
export async function testClient(options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect({ host: '127.0.0.1', port: SHARED_PORTS.plain, reconnectPeriod: 0, protocolVersion: 5, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Publishes `count` messages `prefix-0` … and resolves once the broker acknowledged them all (QoS ≥ 1). */
export async function publishMany(
  client: MqttClient,
  topic: string | ((i: number) => string),
  count: number,
  options: { qos?: 0 | 1 | 2; payload?: (i: number) => string | Buffer; from?: number; pauseMs?: number } = {},
): Promise<void> {
  const { qos = 1, payload = (i: number) => `m-${i}`, from = 0, pauseMs = 0 } = options;
  const pending: Array<Promise<unknown>> = [];
  for (let i = from; i < from + count; i++) {
    const t = typeof topic === 'string' ? topic : topic(i);
    pending.push(client.publishAsync(t, payload(i), { qos }));
    // Keep the client's in-memory outbox bounded.
    if (pending.length >= 500) {
      await Promise.all(pending.splice(0));
      // Pacing: a stream that lasts long enough for a test to act in the middle of it.
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
  await Promise.all(pending);
}
