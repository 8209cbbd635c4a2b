// RabbitMQ benchmark (run by `pnpm bench`; needs the workspace built; starts the test node).
// 1. Backlog drain: BENCH_MESSAGES small JSON messages (default 200,000) are published beforehand
//    (persistent, with confirms) to a fanout exchange bound to three queues, so each case below
//    drains an identical backlog of its own, with the same prefetch (BENCH_PREFETCH, default 50):
//    a) amqplib consuming with a no-op handler, one `multiple` ack per 25 deliveries (baseline),
//    b) this plugin in-process with a no-op uplink (batching, ack tracking, multiple acks),
//    c) this plugin in-process through the host's real pipeline and converter sandbox, into a
//       memory platform (the plugin kit's `startTestIntegration`): everything but SQLite,
//    d) a real `tbi start` process: plugin + converter sandbox + embedded SQLite platform, counted
//       in the platform's processed_messages table (messageIdIsUnique: every message has a sourceId).
//    Rate = messages / time from consuming to the last message handled (stored).
//    CPU µs per message, peak and final RSS and event-loop stalls (scripts/bench-support.mjs): of
//    this process for a) to c) (c) without the converter's child process), of the host for d).
// 2. Latency through the whole pipeline: BENCH_RATE messages/s (default 1000) published live for
//    5 s; latency = stored_at (platform) - time the publisher sent it.
// Protocol of scripts/bench.mjs: progress on stderr, one JSON line last on stdout.
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import amqp from 'amqplib';
import { startTestIntegration } from '@tbi/plugin-testkit';
import rabbitmqPlugin from '../dist/plugin.js';
import { MEASURE_COLUMNS, measureCells, measureInProcess, percentiles, processedCount, rateRow, startMeasuredHost } from '../../../scripts/bench-support.mjs';
import { rabbitmqPorts } from '../../../scripts/ports.mjs';

const pluginDir = path.resolve(import.meta.dirname, '..');
const root = path.resolve(pluginDir, '../..');
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200_000);
const PREFETCH = Number(process.env.BENCH_PREFETCH ?? 50);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
// Extra uplink settings of the plugin cases, e.g. BENCH_UPLINK='{"maxBatch":25}'.
const UPLINK_OPTIONS = JSON.parse(process.env.BENCH_UPLINK ?? '{}');
const PORT = rabbitmqPorts().amqp; // scripts/ports.env, or the environment
const URL = `amqp://tbi:tbi-secret@127.0.0.1:${PORT}`;
const run = `${process.pid}-${Date.now().toString(36)}`;
const log = (msg) => process.stderr.write(`[rabbitmq bench] ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const connection = { host: '127.0.0.1', port: PORT, username: 'tbi', password: 'tbi-secret' };

const UPLINK = `
  var data = decodeToJson(payload);
  return { deviceName: 'dev-' + (data.n % 1000), deviceType: 'bench', telemetry: { temperature: data.t, humidity: data.h } };
`;

const body = (n) => Buffer.from(`{"t":${20 + (n % 100) / 10},"h":${n % 100},"n":${n}}`);

async function publishBacklog(exchange, queues) {
  const conn = await amqp.connect(URL);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange(exchange, 'fanout', { durable: true, autoDelete: false });
  for (const q of queues) {
    await ch.assertQueue(q, { durable: true });
    await ch.bindQueue(q, exchange, '');
  }
  const started = Date.now();
  for (let i = 0; i < MESSAGES; i += 2000) {
    for (let j = i; j < Math.min(MESSAGES, i + 2000); j++) ch.publish(exchange, '', body(j), { persistent: true, messageId: `m-${j}` });
    await ch.waitForConfirms();
  }
  await conn.close();
  return MESSAGES / ((Date.now() - started) / 1000);
}

/** Rate and the costs of this process (CPU, RSS, stalls) around `fn`. */
async function measured(fn) {
  const started = performance.now();
  const { usage } = await measureInProcess(MESSAGES, fn);
  return { rate: MESSAGES / ((performance.now() - started) / 1000), usage };
}

async function rawConsumer(queue) {
  const conn = await amqp.connect(URL);
  const ch = await conn.createChannel();
  await ch.prefetch(PREFETCH);
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
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
  const metric = { inc() {}, set() {}, dec() {}, observe() {} };
  const config = rabbitmqPlugin.configSchema['~standard'].validate({ ...connection, uplink: { queues: [queue], prefetch: PREFETCH, ...UPLINK_OPTIONS } }).value;
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
  return result;
}

async function pipelineMemory(queue) {
  const config = { ...connection, uplink: { queues: [queue], prefetch: PREFETCH, messageIdIsUnique: true, ...UPLINK_OPTIONS } };
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

async function startHost(dir, queue) {
  const config = {
    dataDir: path.join(dir, 'data'),
    plugins: [pluginDir],
    log: { level: 'info' },
    integrations: [
      {
        name: 'bench',
        type: 'rabbitmq',
        config: { ...connection, uplink: { queues: [queue], prefetch: PREFETCH, messageIdIsUnique: true, ...UPLINK_OPTIONS } },
        uplinkConverter: { inline: UPLINK },
      },
    ],
  };
  // Measured from the first consumer: delivery starts there, before "host started".
  const host = await startMeasuredHost({ dir, config, beginOn: 'rabbitmq consuming' });
  return Object.assign(host, { dataDir: path.join(dir, 'data'), db: path.join(dir, 'data', 'platform.db') });
}

async function wholePipeline(dir, queue) {
  // The backlog is there from the start, so the clock and the costs run from "rabbitmq consuming".
  const host = await startHost(dir, queue);
  const started = host.begunAt;
  let stored = 0;
  while ((stored = processedCount(host.dataDir)) < MESSAGES) {
    if (performance.now() - started > 300_000) throw new Error(`only ${stored} of ${MESSAGES} stored`);
    await sleep(100);
  }
  const seconds = (performance.now() - started) / 1000;
  const usage = await host.end(MESSAGES);
  await host.stop();
  return { rate: MESSAGES / seconds, usage };
}

async function latency(dir) {
  const queue = `bench-live-${run}`;
  const conn = await amqp.connect(URL);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true });
  const host = await startHost(dir, queue);
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
  await host.stop();
  await ch.deleteQueue(queue);
  await conn.close();
  const latencies = rows.map((r) => r.stored_at - (sentAt.get(r.source_id) ?? r.stored_at));
  const pct = percentiles(latencies, [0.5, 0.95, 0.99, 1]);
  return { stored: rows.length, sent: total, rate: total / sendSeconds, p50: pct.p50, p95: pct.p95, p99: pct.p99, max: pct.p100 };
}

log('starting the test node (scripts/brokers/rabbitmq.sh start)');
execFileSync(path.join(root, 'scripts/brokers/rabbitmq.sh'), ['start'], { stdio: ['ignore', 'ignore', 'inherit'] });
const dir = await mkdtemp(path.join(tmpdir(), 'tbi-rabbitmq-bench-'));
const queues = ['raw', 'plugin', 'pipeline', 'host'].map((c) => `bench-${c}-${run}`);
log(`publishing ${MESSAGES} messages to ${queues.length} queues`);
const publishRate = await publishBacklog(`bench-fanout-${run}`, queues);
log(`published at ${Math.round(publishRate)} messages/s; amqplib no-op consumer (baseline)`);
const raw = await rawConsumer(queues[0]);
log(`raw: ${Math.round(raw.rate)} messages/s; plugin with a no-op uplink`);
const noop = await pluginNoop(queues[1]);
log(`plugin no-op: ${Math.round(noop.rate)} messages/s; pipeline and sandbox in process, memory platform`);
const memory = await pipelineMemory(queues[2]);
log(`pipeline, memory platform: ${Math.round(memory.rate)} messages/s; whole pipeline in a real host`);
const whole = await wholePipeline(path.join(dir, 'backlog'), queues[3]);
log(`whole pipeline: ${Math.round(whole.rate)} messages/s; latency at ${RATE}/s`);
const lat = await latency(path.join(dir, 'live'));
log(`latency p50 ${lat.p50} ms, p99 ${lat.p99} ms (${lat.stored}/${lat.sent} stored)`);
{
  const conn = await amqp.connect(URL);
  const ch = await conn.createChannel();
  for (const q of queues) await ch.deleteQueue(q);
  await ch.deleteExchange(`bench-fanout-${run}`);
  await conn.close();
}

const NO_LATENCY = ['', '', ''];
console.log(
  JSON.stringify({
    suite: 'plugin-rabbitmq',
    title: 'RabbitMQ: draining a backlog, and live latency, through the whole pipeline',
    description: `${MESSAGES} small persistent JSON messages published beforehand (confirms) through a fanout exchange to four classic queues on the local RabbitMQ ${rabbitVersion()} test node, each drained by one case with prefetch ${PREFETCH}. Rate = messages / time from consuming to the last message handled (for the host: counted in the embedded platform's processed_messages). CPU per message, peak and final RSS and event-loop stalls: the bench process for the first three (without the converter's child process; its peak includes the cases before), the host process for the fourth. Latency: ${RATE} messages/s published live for 5 s, from the publish to stored_at in the platform.`,
    columns: ['case', 'messages/s', 'vs baseline', 'p50 ms', 'p95 ms', 'p99 ms', ...MEASURE_COLUMNS],
    rows: [
      rateRow('amqplib consumer, no-op handler, multiple acks (baseline)', raw, raw.rate, NO_LATENCY),
      rateRow('plugin in-process, no-op uplink (batching, ack tracking, multiple acks)', noop, raw.rate, NO_LATENCY),
      rateRow('host pipeline and sandbox in process, memory platform (no SQLite)', memory, raw.rate, NO_LATENCY),
      rateRow('whole pipeline: tbi host, sandbox converter, embedded SQLite platform', whole, raw.rate, NO_LATENCY),
      [`whole pipeline, live at ${RATE} messages/s`, Math.round(lat.rate), '', lat.p50, lat.p95, lat.p99, ...measureCells(undefined)],
    ],
    notes: [
      `publishing the backlog (persistent, confirms, 2000 in flight): ${Math.round(publishRate)} messages/s (each message to ${queues.length} queues)`,
      `live phase: ${lat.stored} of ${lat.sent} stored; max latency ${lat.max} ms`,
      `the plugin's submits in the in-process pipeline case: ${memory.submitSize.toFixed(1)} messages each on average`,
      'The whole-pipeline rate is bounded by the converter sandbox and the embedded platform (one SQLite transaction per ingest group); the host CPU and RSS figures are the host process (pipeline and the platform writer thread), not the converter child processes.',
    ],
  }),
);
process.exit(0);

function rabbitVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'rabbitmq-server'], { encoding: 'utf8' }).split('-')[0];
  } catch {
    return '';
  }
}
