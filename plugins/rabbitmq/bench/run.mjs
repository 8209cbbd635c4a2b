// RabbitMQ benchmark (run by `pnpm bench`; needs the workspace built; starts the test node).
// 1. Backlog drain: before each case BENCH_MESSAGES small JSON messages (default 200,000) are
//    published (persistent, with confirms) to a queue of its own, which the case then drains:
//    a) amqplib consuming with a no-op handler, one `multiple` ack per 25 deliveries (baseline),
//    b) this plugin in-process with a no-op uplink (batching, ack tracking, multiple acks),
//    c) this plugin in-process through the host's real pipeline and converter sandbox, into a
//       memory platform (the plugin kit's `startTestIntegration`): everything but SQLite,
//    d) a real `tbi start` process: plugin + converter sandbox + embedded SQLite platform, counted
//       in the platform's processed_messages table (messageIdIsUnique: every message has a sourceId).
//    a) and d) run at every prefetch of BENCH_PREFETCHES (default 50,250,1000), each baseline just
//    before the host case with the same prefetch, BENCH_ROUNDS times (default 2; the rows are the
//    means); b) and c) once, at the plugin's default prefetch (BENCH_PREFETCH overrides it).
//    Rate = messages / time from consuming to the last message handled (stored).
//    CPU µs per message, peak and final RSS and event-loop stalls (scripts/bench-support.mjs): of
//    this process for a) to c) (c) without the converter's child process), of the host for d).
//    Also per message: the CPU of the host with its converter process (d), and of the broker.
// 2. Latency through the whole pipeline: BENCH_RATE messages/s (default 1000) published live for
//    5 s at the default prefetch; latency = stored_at (platform) - time the publisher sent it.
// 3. Stream replay (replay-cases.mjs): raw amqplib reading a stream range with a no-op handler
//    (baseline), the plugin's replay reader in process, and a real host replaying the range through
//    the control API (POST /api/integrations/:name/replays) into its embedded platform.
// Case groups: drain (1), latency (2), replay (3). BENCH_CASES=replay (comma-separated) runs only
// those; default all. `pnpm bench` keeps the rows of the groups not run from the last result.
// Protocol of scripts/bench.mjs: progress on stderr, one JSON line last on stdout.
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import amqp from 'amqplib';
import { startTestIntegration } from '@tbi/plugin-testkit';
import rabbitmqPlugin from '../dist/plugin.js';
import {
  average,
  MEASURE_COLUMNS,
  measureCells,
  measureInProcess,
  percentiles,
  processedCount,
  pidFileCpuSeconds,
  hostAndConverterUs,
  rateRow,
  selectedCases,
  startMeasuredHost,
  suiteResult,
} from '../../../scripts/bench-support.mjs';
import { rabbitmqPorts } from '../../../scripts/ports.mjs';
import { replayCases } from './replay-cases.mjs';

const pluginDir = path.resolve(import.meta.dirname, '..');
const root = path.resolve(pluginDir, '../..');
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200_000);
const DEFAULT_PREFETCH = rabbitmqPlugin.configSchema['~standard'].validate({ uplink: { queues: ['q'] } }).value.uplink.prefetch;
const PREFETCH = Number(process.env.BENCH_PREFETCH ?? DEFAULT_PREFETCH);
const PREFETCHES = (process.env.BENCH_PREFETCHES ?? '50,250,1000').split(',').map(Number);
// The sweep runs this many times (baseline and host alternating); its rows are the means.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
// Extra uplink settings of the plugin cases, e.g. BENCH_UPLINK='{"maxBatch":25}'.
const UPLINK_OPTIONS = JSON.parse(process.env.BENCH_UPLINK ?? '{}');
const PORT = rabbitmqPorts().amqp; // scripts/ports.env, or the environment
const URL = `amqp://tbi:tbi-secret@127.0.0.1:${PORT}`;
const run = `${process.pid}-${Date.now().toString(36)}`;
const log = (msg) => process.stderr.write(`[rabbitmq bench] ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const connection = { host: '127.0.0.1', port: PORT, username: 'tbi', password: 'tbi-secret' };
const brokerPidFile = path.join(process.env.TBI_BROKER_STATE_DIR ?? path.join(root, '.cache'), 'rabbitmq', 'default', 'rabbitmq.pid');

const UPLINK = `
  var data = decodeToJson(payload);
  return { deviceName: 'dev-' + (data.n % 1000), deviceType: 'bench', telemetry: { temperature: data.t, humidity: data.h } };
`;

const body = (n) => Buffer.from(`{"t":${20 + (n % 100) / 10},"h":${n % 100},"n":${n}}`);
const uplink = (queue, prefetch) => ({ queues: [queue], prefetch, ...UPLINK_OPTIONS });

/** Publishes the backlog of one case to a queue of its own; returns the publish rate. */
async function publishBacklog(queue) {
  const conn = await amqp.connect(URL);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true });
  const started = Date.now();
  for (let i = 0; i < MESSAGES; i += 2000) {
    for (let j = i; j < Math.min(MESSAGES, i + 2000); j++) ch.sendToQueue(queue, body(j), { persistent: true, messageId: `m-${j}` });
    await ch.waitForConfirms();
  }
  await conn.close();
  return MESSAGES / ((Date.now() - started) / 1000);
}

async function deleteQueue(queue) {
  const conn = await amqp.connect(URL);
  const ch = await conn.createChannel();
  await ch.deleteQueue(queue);
  await conn.close();
}

/** CPU seconds the broker (beam and its children) used so far; undefined without its pid file. */
const brokerCpuSeconds = () => pidFileCpuSeconds(brokerPidFile);

const publishRates = [];
/** Publishes a backlog, runs `drain(queue)` on it with the broker's CPU measured, deletes the queue. */
async function drainCase(name, drain) {
  const queue = `bench-${name}-${run}`;
  publishRates.push(await publishBacklog(queue));
  const brokerBefore = brokerCpuSeconds();
  const result = await drain(queue);
  const brokerAfter = brokerCpuSeconds();
  await deleteQueue(queue);
  const brokerUsPerMessage = brokerBefore === undefined || brokerAfter === undefined ? undefined : ((brokerAfter - brokerBefore) * 1e6) / MESSAGES;
  log(`${name}: ${Math.round(result.rate)} messages/s, ${result.usage.cpuUsPerMessage.toFixed(1)} µs CPU/msg (broker ${brokerUsPerMessage?.toFixed(1)})`);
  return { ...result, brokerUsPerMessage };
}

/** Rate and the costs of this process (CPU, RSS, stalls) around `fn`. */
async function measured(fn) {
  const started = performance.now();
  const { usage } = await measureInProcess(MESSAGES, fn);
  return { rate: MESSAGES / ((performance.now() - started) / 1000), usage };
}

async function rawConsumer(queue, prefetch) {
  const conn = await amqp.connect(URL);
  const ch = await conn.createChannel();
  await ch.prefetch(prefetch);
  const result = await measured(
    () =>
      new Promise((resolve) => {
        let n = 0;
        ch.consume(
          queue,
          (m) => {
            n++;
            if (n % 25 === 0 || n === MESSAGES) ch.ack(m, true);
            if (n === MESSAGES) resolve();
          },
          { noAck: false },
        );
      }),
  );
  await conn.close();
  return result;
}

async function pluginNoop(queue) {
  let handled = 0;
  let submits = 0;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
  const metric = { inc() {}, set() {}, dec() {}, observe() {} };
  const config = rabbitmqPlugin.configSchema['~standard'].validate({ ...connection, uplink: uplink(queue, PREFETCH) }).value;
  const ctx = {
    name: 'bench',
    type: 'rabbitmq',
    config,
    metadata: {},
    logger: silent,
    metrics: { counter: () => metric, gauge: () => metric, histogram: () => metric },
    clock: { now: () => Date.now() },
    uplink: {
      async submit(messages) {
        submits++;
        handled += messages.length;
        if (handled >= MESSAGES) resolveDone();
        return messages.map(() => ({ status: 'stored', records: [] }));
      },
      async reject() {},
    },
    downlinks: { take: () => undefined },
    signal: new AbortController().signal,
    dataDir: tmpdir(),
    configDir: process.cwd(),
  };
  const integration = await rabbitmqPlugin.create(ctx);
  const result = await measured(async () => {
    await integration.start();
    await done;
  });
  await integration.stop();
  return { ...result, submitSize: MESSAGES / submits };
}

async function pipelineMemory(queue) {
  const config = { ...connection, uplink: { ...uplink(queue, PREFETCH), messageIdIsUnique: true } };
  const kit = await startTestIntegration(rabbitmqPlugin, config, { platform: 'memory', uplinkConverter: UPLINK, start: false });
  const stored = () => kit.submits.reduce((n, s) => n + (s.outcomes?.length ?? 0), 0);
  const result = await measured(async () => {
    await kit.start();
    while (stored() < MESSAGES) await sleep(50);
  });
  const submitSize = MESSAGES / kit.submits.length;
  await kit.close();
  return { ...result, submitSize };
}

async function startHost(dir, queue, prefetch) {
  const config = {
    dataDir: path.join(dir, 'data'),
    plugins: [pluginDir],
    log: { level: 'info' },
    integrations: [
      {
        name: 'bench',
        type: 'rabbitmq',
        config: { ...connection, uplink: { ...uplink(queue, prefetch), messageIdIsUnique: true } },
        uplinkConverter: { inline: UPLINK },
      },
    ],
  };
  // Measured from the first consumer: delivery starts there, before "host started".
  const host = await startMeasuredHost({ dir, config, beginOn: 'rabbitmq consuming' });
  return Object.assign(host, { dataDir: path.join(dir, 'data'), db: path.join(dir, 'data', 'platform.db') });
}

async function wholePipeline(dir, queue, prefetch) {
  // The backlog is there from the start, so the clock and the costs run from "rabbitmq consuming".
  const host = await startHost(dir, queue, prefetch);
  const started = host.begunAt;
  let stored = 0;
  while ((stored = processedCount(host.dataDir)) < MESSAGES) {
    if (performance.now() - started > 300_000) throw new Error(`only ${stored} of ${MESSAGES} stored`);
    await sleep(100);
  }
  const seconds = (performance.now() - started) / 1000;
  const usage = await host.end(MESSAGES);
  const submits = await host.process.metric('tbi_rabbitmq_submits_total');
  const conversions = await host.process.metric('tbi_conversion_seconds_count');
  const convertMs = ((await host.process.metric('tbi_conversion_seconds_sum')) * 1000) / conversions;
  const stores = await host.process.metric('tbi_store_seconds_count');
  const storeMs = ((await host.process.metric('tbi_store_seconds_sum')) * 1000) / stores;
  await host.stop();
  return {
    rate: MESSAGES / seconds,
    usage,
    treeUsPerMessage: hostAndConverterUs(usage),
    submitSize: MESSAGES / submits,
    conversionSize: MESSAGES / conversions,
    convertMs,
    storeMs,
    storeSize: MESSAGES / stores,
  };
}

async function latency(dir) {
  const queue = `bench-live-${run}`;
  const conn = await amqp.connect(URL);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true });
  const host = await startHost(dir, queue, PREFETCH);
  const sentAt = new Map();
  const perTick = Math.max(1, Math.round(RATE / 100));
  const ticks = 500; // 5 s at one batch every 10 ms
  let n = 0;
  const started = Date.now();
  for (let t = 0; t < ticks; t++) {
    const sending = Date.now();
    for (let j = 0; j < perTick; j++, n++) {
      ch.sendToQueue(queue, body(n), { persistent: true, messageId: `l-${n}` });
      sentAt.set(`${queue}#l-${n}`, sending);
    }
    const wait = started + (t + 1) * 10 - Date.now();
    if (wait > 0) await sleep(wait);
  }
  await ch.waitForConfirms();
  const total = n;
  const sendSeconds = (Date.now() - started) / 1000;
  const deadline = Date.now() + 60_000;
  while (processedCount(host.dataDir) < total && Date.now() < deadline) await sleep(200);
  const db = new DatabaseSync(host.db, { readOnly: true });
  const rows = db.prepare('SELECT source_id, stored_at FROM processed_messages').all();
  db.close();
  const submits = await host.process.metric('tbi_rabbitmq_submits_total');
  await host.stop();
  await ch.deleteQueue(queue);
  await conn.close();
  const latencies = rows.map((r) => r.stored_at - (sentAt.get(r.source_id) ?? r.stored_at));
  const pct = percentiles(latencies, [0.5, 0.95, 0.99, 1]);
  return {
    stored: rows.length,
    sent: total,
    rate: total / sendSeconds,
    p50: pct.p50,
    p95: pct.p95,
    p99: pct.p99,
    max: pct.p100,
    submitSize: rows.length / submits,
  };
}

const CASES = selectedCases(['drain', 'latency', 'replay']);
log(`case groups: ${CASES.join(', ')}; starting the test node (scripts/brokers/rabbitmq.sh start)`);
execFileSync(path.join(root, 'scripts/brokers/rabbitmq.sh'), ['start'], { stdio: ['ignore', 'ignore', 'inherit'] });
const dir = await mkdtemp(path.join(tmpdir(), 'tbi-rabbitmq-bench-'));
const NO_LATENCY = ['', '', ''];
const r1 = (x) => (x === undefined ? '' : Math.round(x * 10) / 10);
const perSubmit = (x) => (x === undefined ? '' : Math.round(x * 10) / 10);
const groups = [];
if (CASES.includes('drain')) groups.push(await drainGroup());
if (CASES.includes('latency')) groups.push(await latencyGroup());
if (CASES.includes('replay')) groups.push(await replayGroup());

console.log(
  JSON.stringify(
    suiteResult(
      {
        suite: 'plugin-rabbitmq',
        title: 'RabbitMQ: draining a backlog, live latency and stream replay, through the whole pipeline',
        description: `On the local RabbitMQ ${rabbitVersion()} test node. Drain: before each case ${MESSAGES} small persistent JSON messages are published (confirms) to a classic queue of its own, which the case then drains. The baseline (amqplib, no-op handler) and the whole pipeline run at each prefetch of the sweep, the baseline just before the host case, ${ROUNDS} time(s) (the rows are the means); "vs baseline" compares with the baseline of the same prefetch (the in-process cases: with the baseline at the plugin's default prefetch). Rate = messages / time from consuming to the last message handled (for the host: counted in the embedded platform's processed_messages). Latency: ${RATE} messages/s published live for 5 s at prefetch ${PREFETCH}, from the publish to stored_at in the platform. Replay: a range of offsets of a stream queue read again; the baseline is amqplib reading the same range with a no-op handler, in the same run (details in the replay notes). CPU per message, peak and final RSS and event-loop stalls: the bench process for the in-process cases (without the converter's child process; its peak includes the cases before), the host process for the host cases; "host + converter" adds the converter process; "broker" is RabbitMQ's CPU over the same case.`,
        columns: [
          'case',
          'prefetch',
          'messages/s',
          'vs baseline',
          'messages per submit',
          'p50 ms',
          'p95 ms',
          'p99 ms',
          ...MEASURE_COLUMNS,
          'host + converter CPU µs/msg',
          'broker CPU µs/msg',
        ],
        notes: [
          'The host CPU and RSS figures are the host process (pipeline and the platform writer thread); "host + converter" adds the converter child process. The 2 cores are shared by the broker, the host, its converter process and the bench: compare ratios and CPU per message of one run.',
        ],
      },
      groups,
    ),
  ),
);
process.exit(0);

/** 1. The backlog drain: the prefetch sweep (baseline and host), then the in-process cases. */
async function drainGroup() {
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const prefetch of PREFETCHES) {
      log(`round ${round}, prefetch ${prefetch}: amqplib no-op consumer (baseline), then the whole pipeline in a real host`);
      const raw = await drainCase(`raw-${prefetch}-${round}`, (q) => rawConsumer(q, prefetch));
      const whole = await drainCase(`host-${prefetch}-${round}`, (q) => wholePipeline(path.join(dir, `backlog-${prefetch}-${round}`), q, prefetch));
      log(
        `prefetch ${prefetch}: whole pipeline ${(whole.rate / raw.rate).toFixed(2)} of the baseline, ${whole.submitSize.toFixed(1)} messages per submit, ` +
          `converter calls of ${whole.conversionSize.toFixed(0)} in ${whole.convertMs.toFixed(2)} ms, stores of ${whole.storeSize.toFixed(0)} in ${whole.storeMs.toFixed(2)} ms`,
      );
      rounds.push({ prefetch, raw, whole });
    }
  }
  // Each figure of the sweep: the mean over the rounds (the machine is shared, so a round alone moves).
  const sweep = PREFETCHES.map((prefetch) => {
    const of = rounds.filter((r) => r.prefetch === prefetch);
    return { prefetch, raw: average(of.map((r) => r.raw)), whole: average(of.map((r) => r.whole)), ratios: of.map((r) => r.whole.rate / r.raw.rate) };
  });
  log(`prefetch ${PREFETCH}: plugin with a no-op uplink`);
  const noop = await drainCase('plugin', pluginNoop);
  log(`prefetch ${PREFETCH}: pipeline and sandbox in process, memory platform`);
  const memory = await drainCase('pipeline', pipelineMemory);
  const reference = (sweep.find((s) => s.prefetch === PREFETCH) ?? sweep[0]).raw;
  return {
    name: 'drain',
    rows: [
      ...sweep.flatMap(({ prefetch, raw, whole }) => [
        withPrefetch(rateRow('amqplib consumer, no-op handler, multiple acks (baseline)', raw, raw.rate, ['', ...NO_LATENCY]), prefetch, [
          '',
          r1(raw.brokerUsPerMessage),
        ]),
        withPrefetch(
          rateRow('whole pipeline: tbi host, sandbox converter, embedded SQLite platform', whole, raw.rate, [perSubmit(whole.submitSize), ...NO_LATENCY]),
          prefetch,
          [r1(whole.treeUsPerMessage), r1(whole.brokerUsPerMessage)],
        ),
      ]),
      withPrefetch(
        rateRow('plugin in-process, no-op uplink (batching, ack tracking, multiple acks)', noop, reference.rate, [perSubmit(noop.submitSize), ...NO_LATENCY]),
        PREFETCH,
        ['', r1(noop.brokerUsPerMessage)],
      ),
      withPrefetch(
        rateRow('host pipeline and sandbox in process, memory platform (no SQLite)', memory, reference.rate, [perSubmit(memory.submitSize), ...NO_LATENCY]),
        PREFETCH,
        ['', r1(memory.brokerUsPerMessage)],
      ),
    ],
    notes: [
      `the sweep ran ${ROUNDS} time(s), baseline and host alternating; its rows are the means; whole pipeline / baseline per round: ${sweep
        .map((s) => `prefetch ${s.prefetch}: ${s.ratios.map((r) => r.toFixed(2)).join(', ')}`)
        .join('; ')}`,
      `publishing each backlog (persistent, confirms, 2000 in flight): ${Math.round(Math.min(...publishRates))} – ${Math.round(Math.max(...publishRates))} messages/s`,
      `the pipeline in the host cases (it joins submits into converter batches; one platform store per batch, one at a time): ${sweep
        .map(
          (s) =>
            `prefetch ${s.prefetch}: ${s.whole.conversionSize.toFixed(0)} messages per batch, converted in ${s.whole.convertMs.toFixed(1)} ms and stored in ${s.whole.storeMs.toFixed(1)} ms on average`,
        )
        .join('; ')}`,
    ],
  };
}

/** 2. Live latency at RATE messages/s. */
async function latencyGroup() {
  log(`latency at ${RATE}/s`);
  const lat = await latency(path.join(dir, 'live'));
  log(`latency p50 ${lat.p50} ms, p99 ${lat.p99} ms (${lat.stored}/${lat.sent} stored)`);
  return {
    name: 'latency',
    rows: [
      [
        `whole pipeline, live at ${RATE} messages/s`,
        PREFETCH,
        Math.round(lat.rate),
        '',
        perSubmit(lat.submitSize),
        lat.p50,
        lat.p95,
        lat.p99,
        ...measureCells(undefined),
        '',
        '',
      ],
    ],
    notes: [`live phase: ${lat.stored} of ${lat.sent} stored; max latency ${lat.max} ms`],
  };
}

/** 3. Stream replay: raw amqplib (baseline), the plugin's replay reader, a real host through the API. */
async function replayGroup() {
  const rp = await replayCases({ url: URL, connection, pluginDir, dir, brokerCpuSeconds, log });
  const prefetch = rp.maxBatch * 2;
  return {
    name: 'replay',
    rows: [
      withPrefetch(rateRow('stream replay: amqplib from x-stream-offset 0, no-op handler (baseline)', rp.raw, rp.raw.rate, ['', ...NO_LATENCY]), prefetch, [
        '',
        r1(rp.raw.brokerUsPerMessage),
      ]),
      withPrefetch(
        rateRow(`stream replay: plugin's replay reader in-process (probe, batches of ${rp.maxBatch}, toRawMessage)`, rp.source, rp.raw.rate, [
          rp.maxBatch,
          ...NO_LATENCY,
        ]),
        prefetch,
        ['', r1(rp.source.brokerUsPerMessage)],
      ),
      withPrefetch(
        rateRow('stream replay: tbi host via POST /api/integrations/:name/replays, sandbox converter, embedded SQLite platform', rp.host, rp.raw.rate, [
          500,
          ...NO_LATENCY,
        ]),
        prefetch,
        [r1(rp.host.treeUsPerMessage), r1(rp.host.brokerUsPerMessage)],
      ),
    ],
    notes: [
      `replay: ${rp.messages} small JSON messages published to a stream of its own (confirms, 1000 in flight, ${Math.round(rp.publishRate)} messages/s), then offsets 0 – ${rp.messages} read ${rp.rounds} time(s), the three readers alternating (the rows are the means); host / baseline per round: ${rp.hostRatios.map((r) => r.toFixed(2)).join(', ')}`,
      `replay: the host's integration consumes the stream live from "next" (none of the range), so every replayed message is stored once: the replay's read and stored counts and the platform's rows are checked to be ${rp.messages}. Rate = messages / (finishedAt - createdAt) of the replay as GET /api/replays/:id shows it; the host's costs from the POST on. The reader's wall time includes its 0.3 s end probe; "messages per submit" is the replay batch.`,
    ],
  };
}

/** Puts the prefetch after the label and the extra CPU cells at the end of a `rateRow`. */
function withPrefetch(row, prefetch, extra) {
  return [row[0], prefetch, ...row.slice(1), ...extra];
}

function rabbitVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'rabbitmq-server'], { encoding: 'utf8' }).split('-')[0];
  } catch {
    return '';
  }
}
