// "To ThingsBoard" benchmark.
// 1. Drain rate: N messages wait in a persistent MQTT session on the shared Mosquitto; a real
//    `tbi start` (MQTT connector, real isolated-vm converter, platform type thingsboard) drains them
//    into the gateway-API test server (in this process): time from the connector's connection to
//    the last sample PUBACKed. Baseline: a bare `mqtt` subscriber with a no-op handler draining
//    the same backlog on the same broker in the same run.
// 2. Outbox while ThingsBoard is down: the platform client, in process, takes M records with no
//    server; RSS is sampled as the outbox grows.
// Needs `pnpm build`. Progress on stderr; one JSON line on stdout (protocol: scripts/bench.mjs).
// TBI_BENCH_SCALE=0.1 makes it ten times smaller.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { MEASURE_COLUMNS, measureCells, measureInProcess, startMeasuredHost } from '../../../scripts/bench-support.mjs';
import { mosquittoPorts } from '../../../scripts/ports.mjs';
import { startGatewayTestServer } from '../../plugin-testkit/dist/thingsboard/index.js';
import { openThingsBoardPlatform } from '../dist/index.js';

const SCALE = Number(process.env.TBI_BENCH_SCALE ?? 1);
const N = Math.round(100_000 * SCALE);
const M = Math.round(1_000_000 * SCALE);
const PORTS = mosquittoPorts();
const ROOT = path.resolve(import.meta.dirname, '../../..');
const MQTT_PLUGIN = path.join(ROOT, 'plugins', 'mqtt');
const TOKEN = 'bench-token-0123456789abcdef';
const GW = 'bench-gateway-token';
const TS0 = 1_700_000_000_000;
const RUN = Math.random().toString(16).slice(2, 8);
const UPLINK = `var d = decodeToJson(payload); return { deviceName: 'bench-' + (d.seq % 100), deviceType: 'bench', telemetry: { ts: ${TS0} + d.seq, values: { seq: d.seq } } };`;

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function connect(options) {
  const client = mqtt.connect({ host: '127.0.0.1', port: PORTS.plain, protocolVersion: 5, reconnectPeriod: 0, ...options });
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return client;
}

async function backlog(clientId, topic) {
  const setup = await connect({ clientId, clean: false, properties: { sessionExpiryInterval: 3600 } });
  await setup.subscribeAsync(topic, { qos: 1 });
  await setup.endAsync();
  const pub = await connect({ clientId: `${clientId}-pub` });
  let pending = [];
  for (let i = 0; i < N; i++) {
    pending.push(pub.publishAsync(topic, JSON.stringify({ seq: i }), { qos: 1 }));
    if (pending.length >= 1000) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  await pub.endAsync();
}

async function dropSession(clientId) {
  const c = await connect({ clientId, clean: true, properties: { sessionExpiryInterval: 0 } });
  await c.endAsync();
}

async function rawDrain() {
  const clientId = `bench-tb-raw-${RUN}`;
  const topic = `bench/${RUN}/tb-raw`;
  await backlog(clientId, topic);
  let received = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const started = performance.now();
  let client;
  const { result: ended, usage } = await measureInProcess(N, () => {
    client = mqtt.connect({
      host: '127.0.0.1',
      port: PORTS.plain,
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    client.on('message', () => {
      if (++received === N) done(performance.now());
    });
    return finished;
  });
  await client.endAsync();
  await dropSession(clientId);
  return { rate: N / ((ended - started) / 1000), usage };
}

async function tbiDrain(dir) {
  const clientId = `bench-tb-host-${RUN}`;
  const topic = `bench/${RUN}/tb-host`;
  await backlog(clientId, topic);
  const tb = await startGatewayTestServer({ accessToken: GW });
  const config = {
    http: { host: '127.0.0.1', port: 0 },
    auth: { token: TOKEN },
    dataDir: path.join(dir, 'data'),
    plugins: [MQTT_PLUGIN],
    log: { level: 'info' },
    platform: { type: 'thingsboard', host: '127.0.0.1', port: tb.port, accessToken: GW },
    integrations: [
      {
        name: 'bench',
        type: 'mqtt',
        config: { host: '127.0.0.1', port: PORTS.plain, protocolVersion: '5', clientId, topicFilters: [{ filter: topic, qos: 1 }], receiveMaximum: 4000 },
        uplinkConverter: { inline: UPLINK },
        debug: { mode: 'off' },
      },
    ],
  };
  // The clock and the costs run from the connector's connection: the session delivers at once.
  const host = await startMeasuredHost({ dir, config, beginOn: 'connected to the MQTT broker' });
  const count = () => {
    let n = 0;
    for (const d of tb.devices.values()) n += d.telemetry.length;
    return n;
  };
  const deadline = Date.now() + 600_000;
  while (count() < N && Date.now() < deadline) await sleep(20);
  const ended = performance.now();
  const stored = count();
  const usage = await host.end(N);
  await host.stop();
  await tb.stop();
  await dropSession(clientId);
  if (stored < N) throw new Error(`only ${stored} of ${N} reached the test server`);
  return { rate: N / ((ended - host.begunAt) / 1000), publishes: tb.publishes, usage };
}

async function outboxWhileDown(dir) {
  const tb = await startGatewayTestServer({ accessToken: GW });
  const port = tb.port;
  await tb.stop(); // nobody listens there now: ThingsBoard is down
  const p = await openThingsBoardPlatform({
    host: '127.0.0.1',
    port,
    accessToken: GW,
    dataDir: dir,
    outboxMaxRecords: M + 1,
    reconnect: { initialDelayMs: 1000, maxDelayMs: 5000 },
  });
  const samples = [];
  const started = performance.now();
  const BATCH = 1000;
  const { usage } = await measureInProcess(M, async () => {
    for (let i = 0; i < M; i += BATCH) {
      const items = Array.from({ length: BATCH }, (_, k) => ({
        integration: 'bench',
        sourceId: `s${i + k}`,
        records: [
          {
            entityType: 'DEVICE',
            deviceName: `dev-${(i + k) % 1000}`,
            deviceType: 'bench',
            attributes: {},
            telemetry: [{ ts: TS0 + i + k, values: { seq: i + k, t: 21.5 } }],
          },
        ],
      }));
      await p.ingest(items);
      if ((i + BATCH) % Math.max(BATCH, M / 10) === 0) {
        globalThis.gc?.();
        samples.push({ records: i + BATCH, rssMb: process.memoryUsage().rss / 1048576 });
        log(`  outbox ${i + BATCH}: rss ${samples.at(-1).rssMb.toFixed(0)} MiB`);
      }
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const waiting = p.outbox.size;
  await p.close();
  return { samples, rate: M / seconds, waiting, usage };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'tbi-bench-tb-'));
try {
  log(`baseline: bare subscriber draining ${N}`);
  const raw = await rawDrain();
  log(`  ${raw.rate.toFixed(0)} msg/s`);
  log(`tbi → ThingsBoard test server draining ${N}`);
  const host = await tbiDrain(path.join(dir, 'host'));
  log(`  ${host.rate.toFixed(0)} msg/s in ${host.publishes} gateway messages`);
  log(`outbox with ThingsBoard down: ${M} records`);
  const down = await outboxWhileDown(path.join(dir, 'outbox'));
  const first = down.samples[0];
  const last = down.samples.at(-1);
  console.log(
    JSON.stringify({
      suite: 'platform-thingsboard',
      title: 'To ThingsBoard (gateway MQTT API, durable outbox)',
      description: `A backlog of ${N.toLocaleString('en-US')} QoS 1 messages in the MQTT connector's persistent session, drained by a real tbi into the in-process gateway-API test server (until every sample is PUBACKed), against a bare mqtt subscriber draining the same backlog on the same broker in the same run; then ${M.toLocaleString('en-US')} records taken by the outbox with ThingsBoard down.`,
      columns: ['case', 'msg/s', 'note', ...MEASURE_COLUMNS],
      rows: [
        ['bare mqtt subscriber (baseline)', Math.round(raw.rate), 'no-op handler', ...measureCells(raw.usage)],
        ['tbi: MQTT → converter → outbox → ThingsBoard PUBACK', Math.round(host.rate), `${host.publishes} gateway messages`, ...measureCells(host.usage)],
        [
          `outbox ingest, ThingsBoard down (${M.toLocaleString('en-US')} records)`,
          Math.round(down.rate),
          `RSS ${first.rssMb.toFixed(0)} MiB at ${first.records.toLocaleString('en-US')}, ${last.rssMb.toFixed(0)} MiB at ${last.records.toLocaleString('en-US')}; ${down.waiting.toLocaleString('en-US')} rows waiting`,
          ...measureCells(down.usage),
        ],
      ],
      notes: [
        "The test server runs in the benchmark process and acknowledges at once: the figure is tbi's own cost, not a real ThingsBoard's.",
        'CPU µs/msg, RSS and stalls: the bench process for the baseline and the outbox case (its peak RSS includes the cases before; the test server runs in it too), the tbi host process (not its converter processes) for the host case.',
      ],
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
