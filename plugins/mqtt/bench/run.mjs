// MQTT benchmark: a real `tbi start` process (built host + this plugin's dist, real isolated-vm
// converter, embedded SQLite store, PUBACK after storage) against a raw `mqtt` subscriber with a
// no-op handler (baseline), on the same private Mosquitto, in the same run.
//
// 1. Drain rate: N messages are queued for a persistent session while the subscriber is offline,
//    then it connects and the time until the last one is handled (baseline) or stored (tbi) is
//    measured. A live publisher would be the bottleneck on two cores, a backlog is not.
// 2. Latency: messages published at a fixed rate carry their publish time; the baseline notes
//    the arrival time, tbi's is read from the store by polling the database every few ms.
//
// Every case reports CPU µs per message of its whole process, peak and final resident memory, and
// the longest event-loop stalls (scripts/bench-support.mjs).
//
// Needs `pnpm build`. Progress on stderr; one JSON line on stdout (protocol: scripts/bench.mjs).
// TBI_BENCH_SCALE=0.1 makes it ten times smaller.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import mqtt from 'mqtt';
import plugin from '../dist/plugin.js';
import { mosquittoPorts } from '../../../scripts/ports.mjs';
import { cpuSplitNote, MEASURE_COLUMNS, measureCells, measureInProcess, percentiles, startMeasuredHost } from '../../../scripts/bench-support.mjs';

const SCALE = Number(process.env.TBI_BENCH_SCALE ?? 1);
/** Backlog per drain: the 1,000,000 for QoS 1 (memory must stay flat), 200,000 for QoS 0. */
const backlogOf = (qos) => Math.round((qos === 0 ? 200_000 : 1_000_000) * SCALE);
const RATE = 2000; // messages per second for the latency run
const LATENCY_SECONDS = Math.max(3, Math.round(10 * SCALE));
const RECEIVE_MAXIMUM = Number(process.env.TBI_BENCH_RECEIVE_MAXIMUM ?? 4000);
const PORTS = mosquittoPorts('TBI_MQTT_BENCH_PORT_BASE'); // scripts/ports.env
const ROOT = path.resolve(import.meta.dirname, '../../..');
const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');
const SCRIPT = path.join(ROOT, 'scripts', 'brokers', 'mosquitto.sh');
const TOKEN = 'bench-token-0123456789abcdef';
const TS0 = 1_700_000_000_000;
const HOST_ONLY = process.env.TBI_BENCH_MQTT_HOST_ONLY === '1';
const RUN = Math.random().toString(16).slice(2, 8);

const UPLINK = `
  var d = decodeToJson(payload);
  return { deviceName: 'bench-' + (d.seq % 100), deviceType: 'bench', telemetry: { ts: ${TS0} + d.seq, values: { sent: d.t } } };
`;

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const brokerEnv = {
  ...process.env,
  MOSQUITTO_INSTANCE: 'bench',
  MOSQUITTO_PLAIN_PORT: String(PORTS.plain),
  MOSQUITTO_AUTH_PORT: String(PORTS.auth),
  MOSQUITTO_TLS_PORT: String(PORTS.tls),
};
const broker = (cmd) => execFileSync(SCRIPT, [cmd], { env: brokerEnv, stdio: ['ignore', 'ignore', 'inherit'] });

async function connect(options) {
  const client = mqtt.connect({ host: '127.0.0.1', port: PORTS.plain, protocolVersion: 5, reconnectPeriod: 0, ...options });
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return client;
}

/** Publishes `count` messages as fast as the broker takes them (QoS 1 publishes, so none are lost). */
async function publishBacklog(topic, count, qos) {
  const pub = await connect({ clientId: `bench-pub-${RUN}` });
  const started = performance.now();
  let pending = [];
  for (let i = 0; i < count; i++) {
    pending.push(pub.publishAsync(topic, JSON.stringify({ seq: i, t: Date.now() }), { qos: Math.max(qos, 1) }));
    if (pending.length >= 1000) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  await pub.endAsync();
  log(`  queued ${count} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Removes a persistent session (and whatever it still had queued). */
async function dropSession(clientId) {
  const c = await connect({ clientId, clean: true, properties: { sessionExpiryInterval: 0 } });
  await c.endAsync();
}

/** Baseline: a raw subscriber with a no-op handler drains the backlog. */
async function rawDrain(qos) {
  const N = backlogOf(qos);
  const clientId = `bench-raw-q${qos}-${RUN}`;
  const topic = `bench/${RUN}/raw/q${qos}`;
  const setup = await connect({ clientId, clean: false, properties: { sessionExpiryInterval: 3600 } });
  await setup.subscribeAsync(topic, { qos });
  await setup.endAsync();
  await publishBacklog(topic, N, qos);
  let received = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const started = performance.now();
  const { result: ended, usage } = await measureInProcess(N, () => {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port: PORTS.plain,
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    client.on('message', () => {
      if (++received === N) done({ at: performance.now(), client });
    });
    return finished;
  });
  await ended.client.endAsync();
  await dropSession(clientId);
  return { rate: N / ((ended.at - started) / 1000), usage };
}

function hostConfig(dir, qos, clientId, topic) {
  return {
    http: { host: '127.0.0.1', port: 0 },
    auth: { token: TOKEN },
    dataDir: path.join(dir, 'data'),
    plugins: [PLUGIN_DIR],
    log: { level: 'info' },
    integrations: [
      {
        name: 'bench',
        type: 'mqtt',
        config: {
          host: '127.0.0.1',
          port: PORTS.plain,
          protocolVersion: '5',
          clientId,
          topicFilters: [{ filter: topic, qos }],
          receiveMaximum: RECEIVE_MAXIMUM,
        },
        uplinkConverter: { inline: UPLINK },
        debug: { mode: 'off' },
      },
    ],
  };
}

/** Starts a measured host with this config; its costs are measured from its MQTT connection on. */
function startHost(dir, config) {
  return startMeasuredHost({ dir, config, beginOn: 'connected to the MQTT broker' });
}

// Telemetry is stored into `telemetry_recent` and merged into `telemetry` in the background
// (see the embedded platform's README): a stored row is in one of the two.
const STORED = '(SELECT key_id, ts, long_v FROM telemetry UNION ALL SELECT key_id, ts, long_v FROM telemetry_recent)';

function countRows(db) {
  return Number(db.prepare(`SELECT count(*) AS n FROM ${STORED}`).get().n);
}

function openDb(dir) {
  return new DatabaseSync(path.join(dir, 'data', 'platform.db'), { readOnly: true });
}

/** tbi: a host subscribes once (creating its session), stops, the backlog is queued, it starts again. */
async function tbiDrain(qos, base) {
  const N = backlogOf(qos);
  const dir = path.join(base, `drain-q${qos}`);
  const clientId = `bench-tbi-q${qos}-${RUN}`;
  const topic = `bench/${RUN}/tbi/q${qos}`;
  const config = hostConfig(dir, qos, clientId, topic);
  const first = await startHost(dir, config);
  await first.stop();
  await publishBacklog(topic, N, qos);
  // The clock and the costs run from the connection: the resumed session delivers at once.
  const host = await startHost(dir, config);
  const started = host.begunAt;
  const db = openDb(dir);
  let stored = 0;
  const deadline = performance.now() + 600_000;
  while ((stored = countRows(db)) < N && performance.now() < deadline) await sleep(250);
  const ended = performance.now();
  const usage = await host.end(N);
  db.close();
  await host.stop();
  await dropSession(clientId);
  if (stored < N) throw new Error(`only ${stored} of ${N} stored`);
  return { rate: N / ((ended - started) / 1000), usage };
}

/**
 * The connector alone: the plugin in this process (micro-batches, metadata, PUBACK written after
 * the submit resolved), with a pipeline that resolves at once. Shows what the connector costs,
 * apart from conversion and storage.
 */
async function pluginDrain(qos, base) {
  const N = backlogOf(qos);
  const dataDir = path.join(base, `plugin-q${qos}`);
  const clientId = `bench-plugin-q${qos}-${RUN}`;
  const topic = `bench/${RUN}/plugin/q${qos}`;
  let submitted = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
  const metrics = { counter: () => ({ inc() {} }), gauge: () => ({ set() {}, inc() {}, dec() {} }), histogram: () => ({ observe() {} }) };
  const make = async () => {
    const config = plugin.configSchema['~standard'].validate({
      host: '127.0.0.1',
      port: PORTS.plain,
      protocolVersion: '5',
      clientId,
      topicFilters: [{ filter: topic, qos }],
      receiveMaximum: RECEIVE_MAXIMUM,
    }).value;
    const ctx = {
      name: 'bench',
      type: 'mqtt',
      config,
      metadata: {},
      logger: quiet,
      metrics,
      clock: { now: Date.now },
      dataDir,
      signal: new AbortController().signal,
      uplink: {
        async submit(messages) {
          submitted += messages.length;
          if (submitted >= N) done(performance.now());
          return messages.map(() => ({ status: 'stored', records: [] }));
        },
      },
    };
    return plugin.create(ctx);
  };
  const first = await make();
  await first.start();
  await sleep(300);
  await first.stop();
  await publishBacklog(topic, N, qos);
  submitted = 0;
  const integration = await make();
  const started = performance.now();
  const { result: ended, usage } = await measureInProcess(N, async () => {
    await integration.start();
    return finished;
  });
  await integration.stop();
  await dropSession(clientId);
  return { rate: N / ((ended - started) / 1000), usage };
}

/** Publishes at RATE messages/s for LATENCY_SECONDS, stamping each with its publish time. */
async function publishAtRate(topic, qos) {
  const pub = await connect({ clientId: `bench-pub-rate-${RUN}` });
  const total = RATE * LATENCY_SECONDS;
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 1) await sleep(wait);
    pub.publish(topic, JSON.stringify({ seq: i, t: Date.now() }), { qos });
  }
  await sleep(200);
  await pub.endAsync();
  return total;
}

async function rawLatency(qos) {
  const topic = `bench/${RUN}/raw-lat/q${qos}`;
  const latencies = [];
  const client = await connect({ clientId: `bench-raw-lat-${RUN}` });
  client.on('message', (_t, payload) => latencies.push(Date.now() - JSON.parse(payload).t));
  await client.subscribeAsync(topic, { qos });
  const total = await publishAtRate(topic, qos);
  while (latencies.length < total) await sleep(50);
  await client.endAsync();
  return percentiles(latencies);
}

async function tbiLatency(qos, base) {
  const dir = path.join(base, `latency-q${qos}`);
  const topic = `bench/${RUN}/tbi-lat/q${qos}`;
  const clientId = `bench-tbi-lat-q${qos}-${RUN}`;
  const host = await startHost(dir, hostConfig(dir, qos, clientId, topic));
  const db = openDb(dir);
  const keyId = () => db.prepare(`SELECT id FROM telemetry_keys WHERE key = 'sent'`).get()?.id;
  const latencies = [];
  let lastTs = TS0 - 1;
  let polling = true;
  // Rows appear when a batch commits; seen within one poll interval (a few ms).
  const poller = (async () => {
    let query;
    while (polling) {
      const id = keyId();
      if (id !== undefined) {
        query ??= db.prepare(`SELECT ts, long_v AS sent FROM ${STORED} WHERE key_id = ? AND ts > ? ORDER BY ts`);
        const now = Date.now();
        for (const row of query.all(id, lastTs)) {
          latencies.push(now - Number(row.sent));
          if (Number(row.ts) > lastTs) lastTs = Number(row.ts);
        }
      }
      await sleep(3);
    }
  })();
  const total = await publishAtRate(topic, qos);
  const deadline = Date.now() + 60_000;
  while (latencies.length < total && Date.now() < deadline) await sleep(50);
  polling = false;
  await poller;
  db.close();
  await host.stop();
  await dropSession(clientId);
  if (latencies.length < total) throw new Error(`latency run: only ${latencies.length} of ${total} stored`);
  return percentiles(latencies);
}

/** One note on what the host's drain was made of: its own stalls, its waits for a CPU, its heap and GCs. */
function hostBreakdown(qos, usage) {
  const own = usage.ownStall;
  const heap = usage.memory?.atPeakMb;
  const gc = (kind) => usage.gc?.[kind] ?? { count: 0, totalMs: 0, maxMs: 0 };
  return [
    `tbi host, QoS ${qos}:`,
    own ? `its own stalls (less the ${(own.runQueueMs / 1000).toFixed(1)} s its main thread waited for a CPU) ${own.p999} ms p99.9, ${own.max} ms max;` : '',
    heap ? `at the RSS peak heapTotal ${heap.heapTotal} MB, heapUsed ${heap.heapUsed} MB, external ${heap.external} MB;` : '',
    `${gc(1).count} scavenges (${gc(1).totalMs} ms, longest ${gc(1).maxMs}), ${gc(4).count} mark-compacts (${gc(4).totalMs} ms, longest ${gc(4).maxMs}).`,
  ]
    .filter((part) => part !== '')
    .join(' ');
}

const base = await mkdtemp(path.join(os.tmpdir(), 'tbi-bench-mqtt-'));
const rows = [];
const notes = [];
try {
  log(`mqtt bench: ${backlogOf(1)} QoS 1 / ${backlogOf(0)} QoS 0 messages per drain, latency at ${RATE} msg/s for ${LATENCY_SECONDS} s`);
  broker('start');
  const pct = (x, of) => `${((x / of) * 100).toFixed(0)} %`;
  for (const qos of (process.env.TBI_BENCH_QOS ?? '0,1').split(',').map(Number)) {
    const N = backlogOf(qos);
    if (HOST_ONLY) {
      // Profiling the host (TBI_BENCH_MQTT_HOST_ONLY=1): only its drain, with its memory and GC breakdown.
      log(`QoS ${qos}: tbi host draining the backlog into the embedded platform`);
      const tbi = await tbiDrain(qos, base);
      log(`  ${Math.round(tbi.rate)} msg/s, ${JSON.stringify(tbi.usage)}`);
      rows.push([`QoS ${qos}: tbi host (converter + SQLite + ack)`, N, Math.round(tbi.rate), '', '', '', ...measureCells(tbi.usage)]);
      continue;
    }
    log(`QoS ${qos}: raw subscriber draining the backlog (baseline)`);
    const raw = await rawDrain(qos);
    log(`  ${Math.round(raw.rate)} msg/s, ${raw.usage.cpuUsPerMessage.toFixed(1)} µs CPU/msg`);
    log(`QoS ${qos}: the mqtt plugin alone, no-op pipeline`);
    const connector = await pluginDrain(qos, base);
    log(`  ${Math.round(connector.rate)} msg/s (${pct(connector.rate, raw.rate)} of baseline)`);
    log(`QoS ${qos}: tbi host draining the backlog into the embedded platform`);
    const tbi = await tbiDrain(qos, base);
    notes.push(...cpuSplitNote(`QoS ${qos}: tbi host`, tbi.usage));
    log(
      `  ${Math.round(tbi.rate)} msg/s (${pct(tbi.rate, raw.rate)}), ${tbi.usage.cpuUsPerMessage.toFixed(1)} µs CPU/msg, peak RSS ${Math.round(tbi.usage.peakRssMb)} MB`,
    );
    log(`  host memory and GC: ${JSON.stringify({ memory: tbi.usage.memory, gc: tbi.usage.gc, longGcs: tbi.usage.longGcs })}`);
    notes.push(hostBreakdown(qos, tbi.usage));
    log(`QoS ${qos}: latency at ${RATE} msg/s`);
    const rawLat = await rawLatency(qos);
    const tbiLat = await tbiLatency(qos, base);
    log(`  raw p50 ${rawLat.p50} ms p99 ${rawLat.p99} ms; tbi p50 ${tbiLat.p50} ms p99 ${tbiLat.p99} ms`);
    rows.push([
      `QoS ${qos}: raw mqtt subscriber, no-op handler (baseline)`,
      N,
      Math.round(raw.rate),
      '100 %',
      rawLat.p50,
      rawLat.p99,
      ...measureCells(raw.usage),
    ]);
    rows.push([
      `QoS ${qos}: mqtt plugin alone, no-op pipeline (connector overhead)`,
      N,
      Math.round(connector.rate),
      pct(connector.rate, raw.rate),
      '',
      '',
      ...measureCells(connector.usage),
    ]);
    rows.push([
      `QoS ${qos}: tbi host (converter + SQLite + ack)`,
      N,
      Math.round(tbi.rate),
      pct(tbi.rate, raw.rate),
      tbiLat.p50,
      tbiLat.p99,
      ...measureCells(tbi.usage),
    ]);
  }
  notes.push(
    `Drain: ${backlogOf(1)} (QoS 1) or ${backlogOf(0)} (QoS 0) messages queued in Mosquitto for an offline persistent session, then timed from connection (tbi: from its "connected" log line) to the last message handled (baseline) or stored in SQLite (tbi, polled every 250 ms).`,
    `Latency: ${RATE} msg/s for ${LATENCY_SECONDS} s, publish time in the payload; tbi's arrival is when the row is visible in the database (polled every 3 ms), so it includes conversion, the durable commit and up to the 5 ms micro-batch linger.`,
    `tbi acknowledges QoS 1 only after the commit (receive maximum ${RECEIVE_MAXIMUM} in flight, which Mosquitto 2.0 does not hold: the host bounds its memory by pausing its socket reads when the pipeline is full); the baseline acknowledges on arrival.`,
    'CPU µs/msg, RSS and stalls are of the whole process over the drain: the bench process for the baseline and connector-alone rows (its peak RSS includes the cases before), the tbi host process (not its converter processes) for the host row; stalls from monitorEventLoopDelay at 5 ms resolution.',
    'The connector-alone row is this plugin in the bench process with an uplink.submit that resolves at once: what the connector itself costs. The tbi host row is bound by conversion and the durable SQLite commit (see the host and platform-embedded suites).',
  );
} finally {
  await rm(base, { recursive: true, force: true });
  broker('stop');
}

console.log(
  JSON.stringify({
    suite: 'plugin-mqtt',
    title: 'MQTT: backlog drain rate and end-to-end latency',
    description:
      'A real tbi host process (mqtt plugin, isolated-vm converter, embedded SQLite, PUBACK after storage) against a raw mqtt.js subscriber with a no-op handler, on the same local Mosquitto 2.0, in the same run.',
    columns: ['case', 'messages', 'drain msg/s', 'vs baseline', 'latency p50 ms', 'latency p99 ms', ...MEASURE_COLUMNS],
    rows,
    notes,
  }),
);
