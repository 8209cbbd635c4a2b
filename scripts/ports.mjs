// The loopback ports of the test brokers, for tests and benchmarks: each one from the environment
// when set (scripts/test.sh gives every run its own block, see allocate-ports.mjs), else the
// default in scripts/ports.env — the only place the numbers are written.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const PORTS_FILE = path.join(import.meta.dirname, 'ports.env');

/**
 * The entries of ports.env in file order: name, default, and how many ports it spans
 * (`_PORT_BASE` names are blocks of 4, `_PORT` names one port).
 * @param {string} [text] the file's text (default: read scripts/ports.env)
 * @returns {{ name: string, fallback: number, width: number }[]}
 */
export function portLayout(text = readFileSync(PORTS_FILE, 'utf8')) {
  const entries = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z][A-Z0-9_]*_PORT(_BASE)?)=(\d{1,5})$/.exec(line);
    if (!m) throw new Error(`${PORTS_FILE}: cannot read "${line}" (expected NAME_PORT=number or NAME_PORT_BASE=number)`);
    entries.push({ name: m[1], fallback: Number(m[3]), width: m[2] ? 4 : 1 });
  }
  return entries;
}

/**
 * One port (or block base) by its ports.env name: the environment's value, else the default.
 * @param {string} name e.g. `MOSQUITTO_TLS_PORT`
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {number}
 */
export function port(name, env = process.env) {
  const entry = portLayout().find((e) => e.name === name);
  if (!entry) throw new Error(`${name} is not in ${PORTS_FILE}`);
  const value = env[name];
  if (value === undefined || value === '') return entry.fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new Error(`${name}=${value}: expected a port number`);
  return Number(value);
}

/**
 * Ports of a Mosquitto instance: the shared one, or a private block by its ports.env name.
 * @param {string} [baseName] e.g. `TBI_MQTT_RESTART_PORT_BASE`; omitted: the shared broker
 * @returns {{ plain: number, auth: number, tls: number }}
 */
export function mosquittoPorts(baseName) {
  if (!baseName) return { plain: port('MOSQUITTO_PLAIN_PORT'), auth: port('MOSQUITTO_AUTH_PORT'), tls: port('MOSQUITTO_TLS_PORT') };
  const base = port(baseName);
  return { plain: base, auth: base + 1, tls: base + 2 };
}

/**
 * Ports of a RabbitMQ instance and the env that makes scripts/brokers/rabbitmq.sh run it.
 * @param {string} [baseName] e.g. `TBI_RABBITMQ_RESTART_PORT_BASE`; omitted: the shared node
 * @param {string} [instance] instance name (state folder, node name) for a private node
 */
export function rabbitmqPorts(baseName, instance = 'default') {
  const amqp = baseName ? port(baseName) : port('RABBITMQ_PORT');
  const tls = baseName ? amqp + 1 : port('RABBITMQ_TLS_PORT');
  const dist = baseName ? amqp + 2 : port('RABBITMQ_DIST_PORT');
  return {
    amqp,
    tls,
    dist,
    env: { RABBITMQ_INSTANCE: instance, RABBITMQ_PORT: String(amqp), RABBITMQ_TLS_PORT: String(tls), RABBITMQ_DIST_PORT: String(dist) },
  };
}

/**
 * Listeners of a Kafka instance as `host:port` strings, and the env that makes
 * scripts/brokers/kafka.sh run that instance.
 * @param {string} [baseName] e.g. `TBI_KAFKA_RESTART_PORT_BASE`; default the shared broker
 * @param {string} [instance] instance name (state folder) for a private broker
 */
export function kafkaListeners(baseName = 'KAFKA_PORT_BASE', instance = 'default') {
  const base = port(baseName);
  return {
    plaintext: `127.0.0.1:${base}`,
    sasl: `127.0.0.1:${base + 2}`,
    ssl: `127.0.0.1:${base + 3}`,
    env: { KAFKA_INSTANCE: instance, KAFKA_PORT_BASE: String(base) },
  };
}

/**
 * Ports of a Pulsar standalone instance and the env that makes scripts/brokers/pulsar.sh run it.
 * A private block is base broker, +1 web service (admin + WebSocket), +2 bookie, +3 web service over TLS.
 * @param {string} [baseName] e.g. `TBI_PULSAR_RESTART_PORT_BASE`; omitted: the shared instance
 * @param {string} [instance] instance name (state folder) for a private instance
 * @param {{ auth?: 'token' }} [options] token authentication on for the instance
 */
export function pulsarPorts(baseName, instance = 'default', options = {}) {
  const broker = baseName ? port(baseName) : port('PULSAR_BROKER_PORT');
  const web = baseName ? broker + 1 : port('PULSAR_WEB_PORT');
  const bookie = baseName ? broker + 2 : port('PULSAR_BOOKIE_PORT');
  const webTls = baseName ? broker + 3 : port('PULSAR_WEB_TLS_PORT');
  return {
    broker,
    web,
    bookie,
    webTls,
    serviceUrl: `pulsar://127.0.0.1:${broker}`,
    webServiceUrl: `http://127.0.0.1:${web}`,
    webServiceTlsUrl: `https://127.0.0.1:${webTls}`,
    env: {
      PULSAR_INSTANCE: instance,
      PULSAR_BROKER_PORT: String(broker),
      PULSAR_WEB_PORT: String(web),
      PULSAR_BOOKIE_PORT: String(bookie),
      PULSAR_WEB_TLS_PORT: String(webTls),
      ...(options.auth ? { PULSAR_AUTH: options.auth } : {}),
    },
  };
}
