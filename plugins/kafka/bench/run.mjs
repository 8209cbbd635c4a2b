// Kafka benchmark (run by `pnpm bench`; needs the workspace built and Java for the test broker).
// 1. Backlog drain: BENCH_RECORDS small JSON records (default 1,000,000) are produced beforehand to
//    a 3-partition topic, then drained by
//    a) the raw @platformatic/kafka consumer with a no-op handler (baseline),
//    b) this plugin in-process with a no-op uplink (consumer + batching + offset tracking + commits),
//    c) a real `tbi start` process: plugin + converter sandbox + embedded SQLite platform, counted
//       in the platform's processed_messages table.
//    Rate = records / time from "member of the group" to "last record handled (stored)".
// 2. Latency through the whole pipeline: records produced live at BENCH_RATE/s (default 2000) for
//    5 s to a 1-partition topic; latency = stored_at (platform) - time the producer sent it.
// 3. Replay (replay-cases.mjs): N records read again from the start of a topic by the raw consumer
//    in manual mode (baseline), by the plugin's replay reader in-process, and by a host's replay
//    through the control API into its embedded platform.
// 4. Event export (export-cases.mjs): N records stored in a host, then exported by the host's
//    `export:` block through this plugin's downlink to a fresh topic, beside the raw producer
//    (idempotent, acks=all, same batch size) producing the same N records (baseline).
// Every drain reports CPU µs per record of its whole process, peak and final resident memory and
// the longest event-loop stalls (scripts/bench-support.mjs).
// Case groups: drain (1), latency (2), replay (3), export (4). BENCH_CASES=replay,export
// (comma-separated) runs only those; default all. `pnpm bench` keeps the rows of the groups not
// run from the last result. A new group is a module like export-cases.mjs, a name in GROUPS and its
// rows below.
// Protocol of scripts/bench.mjs: progress on stderr, one JSON line last on stdout.
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import kafkaPlugin from '../dist/plugin.js';
import {
  cpuSplitNote,
  MEASURE_COLUMNS,
  measureCells,
  measureInProcess,
  percentiles,
  processedCount,
  rateRow,
  selectedCases,
  startMeasuredHost,
  suiteResult,
} from '../../../scripts/bench-support.mjs';
import { kafkaListeners } from '../../../scripts/ports.mjs';
import { exportCases } from './export-cases.mjs';
import { produceLive } from './live-producer.mjs';
import { replayCases } from './replay-cases.mjs';

const pluginDir = path.resolve(import.meta.dirname, '..');
const root = path.resolve(pluginDir, '../..');
const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const BROKERS = [kafkaListeners().plaintext]; // scripts/ports.env, or the environment
// Extra uplink settings of the host's integration, e.g. BENCH_UPLINK='{"maxPollRecords":2000}'.
const UPLINK_OPTIONS = JSON.parse(process.env.BENCH_UPLINK ?? '{}');
const run = `${process.pid}-${Date.now().toString(36)}`;
const log = (msg) => process.stderr.write(`[kafka bench] ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const UPLINK = `
  var data = decodeToJson(payload);
  return { deviceName: metadata.key, deviceType: 'bench', telemetry: { temperature: data.t, humidity: data.h } };
`;

async function createTopic(topic, partitions) {
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: BROKERS });
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  await admin.close();
}

async function produceBacklog(topic, count) {
  const producer = new Producer({ clientId: 'bench', bootstrapBrokers: BROKERS, idempotent: true, acks: -1, compression: 'lz4' });
  const started = Date.now();
  for (let i = 0; i < count; i += 2000) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + 2000); j++) {
      messages.push({ topic, key: Buffer.from(`dev-${j % 1000}`), value: Buffer.from(`{"t":${20 + (j % 100) / 10},"h":${j % 100},"n":${j}}`) });
    }
    await producer.send({ messages });
  }
  await producer.close();
  return count / ((Date.now() - started) / 1000);
}

async function rawConsumer(topic) {
  const consumer = new Consumer({ clientId: 'bench-raw', groupId: `bench-raw-${run}`, bootstrapBrokers: BROKERS, autocommit: false });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  const started = Date.now();
  let n = 0;
  let last;
  const { usage } = await measureInProcess(
    RECORDS,
    () =>
      new Promise((resolve, reject) => {
        stream.on('data', (m) => {
          last = m;
          if (++n === RECORDS) resolve();
        });
        stream.on('error', reject);
      }),
  );
  const seconds = (Date.now() - started) / 1000;
  await last.commit();
  await stream.close();
  await consumer.close(true);
  return { rate: RECORDS / seconds, usage };
}

async function pluginNoop(topic) {
  let handled = 0;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
  const metric = { inc() {}, set() {}, dec() {}, observe() {} };
  const config = kafkaPlugin.configSchema['~standard'].validate({
    bootstrapServers: BROKERS,
    uplink: { topics: [topic], groupId: `bench-plugin-${run}` },
  }).value;
  const ctx = {
    name: 'bench',
    type: 'kafka',
    config,
    metadata: {},
    logger: silent,
    metrics: { counter: () => metric, gauge: () => metric, histogram: () => metric },
    clock: { now: () => Date.now() },
    uplink: {
      async submit(messages) {
        handled += messages.length;
        if (handled >= RECORDS) resolveDone();
        return messages.map(() => ({ status: 'stored', records: [] }));
      },
    },
    downlinks: { take: () => undefined },
    signal: new AbortController().signal,
    dataDir: tmpdir(),
  };
  const integration = await kafkaPlugin.create(ctx);
  await integration.start();
  const started = Date.now();
  const { usage } = await measureInProcess(RECORDS, () => done);
  const seconds = (Date.now() - started) / 1000;
  await integration.stop();
  return { rate: RECORDS / seconds, usage };
}

async function startHost(dir, topic, groupId) {
  const config = {
    dataDir: path.join(dir, 'data'),
    plugins: [pluginDir],
    log: { level: 'info' },
    integrations: [
      {
        name: 'bench',
        type: 'kafka',
        config: { bootstrapServers: BROKERS, uplink: { topics: [topic], groupId, ...UPLINK_OPTIONS } },
        uplinkConverter: { inline: UPLINK },
      },
    ],
  };
  // Measured from joining the group: fetching starts there, before "host started".
  const host = await startMeasuredHost({ dir, config, beginOn: 'kafka consumer joined its group' });
  return Object.assign(host, { dataDir: path.join(dir, 'data'), db: path.join(dir, 'data', 'platform.db') });
}

async function wholePipeline(dir, topic) {
  const host = await startHost(dir, topic, `bench-host-${run}`);
  const started = host.begunAt;
  let stored = 0;
  while ((stored = processedCount(host.dataDir)) < RECORDS) {
    if (performance.now() - started > 300_000) throw new Error(`only ${stored} of ${RECORDS} stored`);
    await sleep(200);
  }
  const seconds = (performance.now() - started) / 1000;
  const usage = await host.end(RECORDS);
  await host.stop();
  return { rate: RECORDS / seconds, usage };
}

async function latency(dir) {
  const topic = `bench-live-${run}`;
  await createTopic(topic, 1);
  const host = await startHost(dir, topic, `bench-live-${run}`);
  const started = Date.now();
  const sentAt = await produceLive(BROKERS, topic, RATE, (ticks) => ticks >= 500); // 5 s at one send every 10 ms
  const total = sentAt.size;
  const deadline = Date.now() + 60_000;
  while (processedCount(host.dataDir) < total && Date.now() < deadline) await sleep(200);
  const db = new DatabaseSync(host.db, { readOnly: true });
  const rows = db.prepare('SELECT source_id, stored_at FROM processed_messages').all();
  db.close();
  await host.stop();
  const latencies = rows.map((r) => r.stored_at - (sentAt.get(r.source_id) ?? r.stored_at));
  const pct = percentiles(latencies, [0.5, 0.95, 0.99, 1]);
  return { stored: rows.length, sent: total, rate: total / ((Date.now() - started) / 1000), p50: pct.p50, p95: pct.p95, p99: pct.p99, max: pct.p100 };
}

const GROUPS = { drain: drainGroup, latency: latencyGroup, replay: replayGroup, export: exportGroup };
const CASES = selectedCases(Object.keys(GROUPS));
log(`case groups: ${CASES.join(', ')}; starting the test broker (scripts/brokers/kafka.sh start)`);
execFileSync(path.join(root, 'scripts/brokers/kafka.sh'), ['start'], { stdio: ['ignore', 'ignore', 'inherit'] });
const dir = await mkdtemp(path.join(tmpdir(), 'tbi-kafka-bench-'));
const NO_LATENCY = ['', '', ''];
const groups = [];
for (const name of CASES) groups.push(await GROUPS[name]());

console.log(
  JSON.stringify(
    suiteResult(
      {
        suite: 'plugin-kafka',
        title: 'Kafka: draining a backlog, live latency, replay and event export, through the whole pipeline',
        description: `On the local Kafka 4.1 test broker. Drain: ${RECORDS} small JSON records produced beforehand to a 3-partition topic, then drained by each case in turn (own consumer group). Rate = records / time from joining the group to the last record handled (for the host: counted in the embedded platform's processed_messages). Latency: ${RATE} records/s produced live for 5 s to a 1-partition topic, from the producer's send (acks=all) to stored_at in the platform. Replay: a topic read again from the start by the raw consumer, the plugin's reader and a host's replay (details in the replay notes). Export: records stored in a host published again by its \`export:\` block through this plugin to a fresh topic, beside the raw producer producing the same records in the same run (details in the export notes).`,
        columns: ['case', 'records/s', 'vs baseline', 'p50 ms', 'p95 ms', 'p99 ms', ...MEASURE_COLUMNS],
        notes: [
          'CPU µs/record, RSS and stalls are of the whole process over the case: the bench process for the raw clients and the in-process plugin (its peak RSS includes the cases before), the tbi host process (not its converter processes) for the host cases; stalls from monitorEventLoopDelay at 5 ms resolution.',
          "The busiest thread of the whole pipeline is the embedded platform's writer thread (staged rows, the dedup row per record, merges; split above): what bounds it is in packages/platform-embedded/README.md (Profile for issue 16).",
        ],
      },
      groups,
    ),
  ),
);
process.exit(0);

/** 1. The backlog drain: the raw consumer (baseline), the plugin with a no-op uplink, a real host. */
async function drainGroup() {
  const topic = `bench-backlog-${run}`;
  await createTopic(topic, 3);
  log(`producing ${RECORDS} records`);
  const produceRate = await produceBacklog(topic, RECORDS);
  log(`produced at ${Math.round(produceRate)} records/s; raw consumer (baseline)`);
  const raw = await rawConsumer(topic);
  log(`raw: ${Math.round(raw.rate)} records/s; plugin with a no-op uplink`);
  const noop = await pluginNoop(topic);
  log(`plugin no-op: ${Math.round(noop.rate)} records/s; whole pipeline in a real host`);
  const whole = await wholePipeline(path.join(dir, 'backlog'), topic);
  log(
    `whole pipeline: ${Math.round(whole.rate)} records/s, ${whole.usage.cpuUsPerMessage.toFixed(1)} µs CPU/record, peak RSS ${Math.round(whole.usage.peakRssMb)} MB`,
  );
  return {
    name: 'drain',
    rows: [
      rateRow('raw @platformatic/kafka consumer, no-op handler (baseline)', raw, raw.rate, NO_LATENCY),
      rateRow('plugin in-process, no-op uplink (batching, offset tracking, commits)', noop, raw.rate, NO_LATENCY),
      rateRow('whole pipeline: tbi host, sandbox converter, embedded SQLite platform', whole, raw.rate, NO_LATENCY),
    ],
    notes: [`producing the backlog (acks=all, lz4): ${Math.round(produceRate)} records/s`, ...cpuSplitNote('whole pipeline', whole.usage)],
  };
}

/** 2. Live latency at RATE records/s. */
async function latencyGroup() {
  log(`latency at ${RATE}/s`);
  const lat = await latency(path.join(dir, 'live'));
  log(`latency p50 ${lat.p50} ms, p99 ${lat.p99} ms (${lat.stored}/${lat.sent} stored)`);
  return {
    name: 'latency',
    rows: [[`whole pipeline, live at ${RATE} records/s`, Math.round(lat.rate), '', lat.p50, lat.p95, lat.p99, ...measureCells(undefined)]],
    notes: [`live phase: ${lat.stored} of ${lat.sent} stored; max latency ${lat.max} ms`],
  };
}

/** 3. Replay: the raw consumer from given offsets (baseline), the plugin's reader, a host's replay. */
async function replayGroup() {
  const rp = await replayCases({ brokers: BROKERS, pluginDir, dir, run, createTopic, produceBacklog, log });
  return {
    name: 'replay',
    rows: [
      rateRow('replay: raw @platformatic/kafka consumer, manual offsets from 0, no-op handler (baseline)', rp.raw, rp.raw.rate, NO_LATENCY),
      rateRow(
        `replay: plugin's replay reader in-process (ListOffsets plan, temporary group, batches of ${rp.maxBatch}, toRawMessage)`,
        rp.source,
        rp.raw.rate,
        NO_LATENCY,
      ),
      rateRow('replay: tbi host via POST /api/integrations/:name/replays, sandbox converter, embedded SQLite platform', rp.host, rp.raw.rate, NO_LATENCY),
      rateRow(`replay: the same host replay with live records at ${rp.liveRate}/s beside it (latency: the live records)`, rp.live, rp.raw.rate, [
        rp.latency.p50,
        '',
        rp.latency.p99,
      ]),
    ],
    notes: [
      `replay: ${rp.records} records on a 3-partition topic of their own, read ${rp.rounds} time(s) from the start, the three readers alternating (the rows are the means); host / baseline per round: ${rp.hostRatios.map((r) => r.toFixed(2)).join(', ')}`,
      `replay: the host's live group starts at "latest" (it reads none of the topic), so every replayed record is stored once: the replay's read and stored counts and the platform's rows are checked to be ${rp.records}. Rate = records / (finishedAt - createdAt) of the replay as GET /api/replays/:id shows it; the host's costs from the POST on${rp.host.treeUsPerMessage === undefined ? '' : `; with its converter process ${Math.round(rp.host.treeUsPerMessage * 10) / 10} µs/record`}.`,
      `replay beside live traffic: live records stored ${rp.liveStored.join(', ')} (per round); their latency from the producer's send to stored_at, worst round: p50 ${rp.latency.p50} ms, p99 ${rp.latency.p99} ms, max ${rp.latency.max} ms — compare the latency group's live row, measured without a replay`,
      ...cpuSplitNote('replay host', rp.host.usage),
    ],
  };
}

/** 4. Event export: the raw producer (baseline) and a host's `export:` block, the same records. */
async function exportGroup() {
  const ex = await exportCases({ brokers: BROKERS, pluginDir, dir, run, createTopic, produceBacklog, log });
  return {
    name: 'export',
    rows: [
      rateRow(`export: raw @platformatic/kafka producer, idempotent, acks=all, sends of ${ex.batch} (baseline)`, ex.raw, ex.raw.rate, NO_LATENCY),
      rateRow('export: tbi host export: block, record log → sandbox encoder → plugin downlink', ex.host, ex.raw.rate, NO_LATENCY),
    ],
    notes: [
      `export: ${ex.records} records (values of ${ex.valueBytes} bytes, keyed by device, 1000 devices) to a fresh 3-partition topic per case, ${ex.rounds} round(s), baseline and host alternating (the rows are the means); host / baseline per round: ${ex.hostRatios.map((r) => r.toFixed(2)).join(', ')}. The topics are checked to hold exactly ${ex.records} records, and the export's status to have sent ${ex.records}.`,
      `export: the host's records are stored beforehand by a host of its own (a kafka uplink, the exporter disabled); the export host is then started on the same data with only the exporter. Rate = records / time from its "export started" log line to lag 0 in GET /api/integrations/:name (export status: cursor = head); the host's CPU from that line on${ex.host.treeUsPerMessage === undefined ? '' : `; with its converter (encoder) process ${Math.round(ex.host.treeUsPerMessage * 10) / 10} µs/record`}.`,
      ...cpuSplitNote('export host', ex.host.usage),
    ],
  };
}
