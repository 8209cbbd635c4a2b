// Pulsar benchmark (run by `pnpm bench`; needs the workspace built; starts the shared test instance).
// A backlog of BENCH_MESSAGES small JSON messages (default 100,000) is produced beforehand to one
// topic with one subscription per case (all made before producing, so each case drains the same
// backlog of its own), then:
//   a) the WebSocket driver alone, no-op handler, every message acknowledged at once (pipelined),
//      on 1, 2, 4 and 8 connections of a Shared subscription (receiverQueueSize BENCH_QUEUE, default
//      1000): the driver's ceiling here; the best of these is the baseline;
//   b) a real `tbi start` process (plugin + converter sandbox + embedded SQLite platform) with the
//      baseline's connection count, counted in the platform's processed_messages table.
// Rate = messages / time from the consumer starting to the last message handled (stored). A
// warm-up drain of its own subscription comes first (BENCH_WARMUP=0 leaves it out).
// Then the replay group (replay-cases.mjs): the same topic read again by the driver's reader
// (baseline), the plugin's replay reader and a host's replay through the control API.
// Case groups: drain, replay; BENCH_CASES=replay runs only that one (the other's rows are kept).
// CPU µs per message, peak and final RSS and event-loop stalls (scripts/bench-support.mjs): this
// process for a), the host process for b).
// Protocol of scripts/bench.mjs: progress on stderr, one JSON line last on stdout.
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { websocketDriver } from '../dist/driver/websocket.js';
import {
  cpuSplitNote,
  MEASURE_COLUMNS,
  measureInProcess,
  processedCount,
  pidFileCpuSeconds,
  hostAndConverterUs,
  rateRow,
  selectedCases,
  startMeasuredHost,
  suiteResult,
} from '../../../scripts/bench-support.mjs';
import { pulsarPorts } from '../../../scripts/ports.mjs';
import { replayCases } from './replay-cases.mjs';

const pluginDir = path.resolve(import.meta.dirname, '..');
const root = path.resolve(pluginDir, '../..');
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const QUEUE = Number(process.env.BENCH_QUEUE ?? 1000);
const STALL_MS = Number(process.env.BENCH_STALL_MS ?? 60_000);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,2,4,8').split(',').map(Number);
const ports = pulsarPorts();
const WEB = ports.webServiceUrl;
const run = `${process.pid}-${Date.now().toString(36)}`;
const TOPIC = `persistent://public/default/bench-${run}`;
const log = (msg) => process.stderr.write(`[pulsar bench] ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const brokerPidFile = path.join(
  process.env.PULSAR_STATE_DIR ?? path.join(process.env.TBI_BROKER_STATE_DIR ?? path.join(root, '.cache'), 'pulsar', 'default'),
  'pulsar.pid',
);

/** CPU seconds the broker (its JVM) used so far; undefined without its pid file. */
function brokerCpuSeconds() {
  return pidFileCpuSeconds(brokerPidFile);
}

/** Runs a case with the broker's CPU measured: adds `brokerUsPerMessage` to its result. */
async function withBrokerCpu(run) {
  const before = brokerCpuSeconds();
  const result = await run();
  const after = brokerCpuSeconds();
  const brokerUsPerMessage = before === undefined || after === undefined ? undefined : ((after - before) * 1e6) / Math.max(1, result.handled);
  return { ...result, brokerUsPerMessage };
}
const r1 = (v) => (v === undefined ? '' : Math.round(v * 10) / 10);

const UPLINK = `
  var data = decodeToJson(payload);
  return { deviceName: 'dev-' + (data.n % 1000), deviceType: 'bench', telemetry: { temperature: data.t, humidity: data.h } };
`;
const body = (n) => `{"t":${20 + (n % 100) / 10},"h":${n % 100},"n":${n}}`;
const subscription = (name) => `bench-${name}`;
// A first drain, not reported, so that the broker's JIT is warm for every measured case (the
// first drain of a run was the slowest whatever its connections: 7,000–9,000 messages/s on 4 or 8).
const WARMUP = process.env.BENCH_WARMUP !== '0';
const GROUPS = selectedCases(['drain', 'replay']);
// One subscription per drain case; the replay group's holds the backlog (it never acknowledges:
// a topic without subscriptions keeps nothing for readers).
const cases = [
  ...(GROUPS.includes('drain') ? [...(WARMUP ? ['warmup'] : []), ...CONNECTIONS.map((n) => `driver-${n}`), 'host'] : []),
  ...(GROUPS.includes('replay') ? ['replay-hold'] : []),
];

async function createSubscriptions() {
  const driver = websocketDriver(WEB);
  for (const name of cases) {
    const c = await driver.consumer({
      topic: TOPIC,
      subscription: subscription(name),
      subscriptionType: 'Shared',
      initialPosition: 'Earliest',
      receiverQueueSize: 1,
      negativeAckRedeliveryDelayMs: 1000,
      onMessage() {},
      onClose() {},
    });
    await c.close();
  }
}

async function produceBacklog() {
  const ws = new WebSocket(`${WEB.replace(/^http/, 'ws')}/ws/v2/producer/${TOPIC.replace('://', '/')}`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const started = Date.now();
  let sent = 0;
  let acked = 0;
  await new Promise((resolve, reject) => {
    const pump = () => {
      while (sent < MESSAGES && sent - acked < 2000) {
        ws.send(JSON.stringify({ payload: Buffer.from(body(sent)).toString('base64'), context: String(sent) }));
        sent++;
      }
      if (acked === MESSAGES) resolve();
    };
    ws.on('message', (d) => {
      if (JSON.parse(d.toString()).result !== 'ok') return reject(new Error(`produce failed: ${d}`));
      acked++;
      pump();
    });
    pump();
  });
  ws.close();
  return MESSAGES / ((Date.now() - started) / 1000);
}

/**
 * The driver alone: `n` connections, every message acknowledged as it arrives. Ends when all
 * arrived, or when nothing arrived for STALL_MS (the rate is then of what arrived, to the last one).
 */
async function driverNoop(n, name = `driver-${n}`) {
  const driver = websocketDriver(WEB);
  let handled = 0;
  let lastAt = 0;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const started = performance.now();
  const connections = [];
  for (let i = 0; i < n; i++) {
    // Frames that came with the upgrade response are delivered before `consumer` resolves: their
    // acks wait for the connection.
    let c;
    const early = [];
    c = await driver.consumer({
      topic: TOPIC,
      subscription: subscription(name),
      subscriptionType: 'Shared',
      initialPosition: 'Earliest',
      receiverQueueSize: QUEUE,
      negativeAckRedeliveryDelayMs: 1000,
      onMessage(m) {
        if (c === undefined) early.push(m.messageId);
        else c.ack(m.messageId);
        lastAt = performance.now();
        if (++handled >= MESSAGES) resolveDone();
      },
      onClose() {},
    });
    for (const id of early) c.ack(id);
    connections.push(c);
  }
  const watchdog = setInterval(() => {
    if (performance.now() - (lastAt || started) > STALL_MS) resolveDone();
  }, 500);
  const { usage } = await measureInProcess(
    () => Math.max(1, handled),
    () => done,
  );
  clearInterval(watchdog);
  const seconds = ((lastAt || performance.now()) - started) / 1000;
  await Promise.all(connections.map((c) => c.close()));
  return { handled, rate: handled / seconds, usage };
}

async function wholePipeline(dir, connections) {
  const config = {
    dataDir: path.join(dir, 'data'),
    plugins: [pluginDir],
    log: { level: 'info' },
    integrations: [
      {
        name: 'bench',
        type: 'pulsar',
        config: {
          webServiceUrl: WEB,
          uplink: {
            topics: [TOPIC],
            subscriptionName: subscription('host'),
            subscriptionType: 'Shared',
            initialPosition: 'Earliest',
            receiverQueueSize: QUEUE,
            connections,
          },
        },
        uplinkConverter: { inline: UPLINK },
      },
    ],
  };
  // Measured from the first subscription: delivery starts there, before "host started".
  const host = await startMeasuredHost({ dir, config, beginOn: 'pulsar consumer subscribed' });
  const dataDir = path.join(dir, 'data');
  const started = host.begunAt;
  let stored = 0;
  let lastAt = started;
  for (;;) {
    const now = processedCount(dataDir);
    if (now > stored) {
      stored = now;
      lastAt = performance.now();
    }
    if (stored >= MESSAGES || performance.now() - lastAt > STALL_MS) break;
    await sleep(100);
  }
  const seconds = (lastAt - started) / 1000;
  const usage = await host.end(Math.max(1, stored));
  // How the messages reached the converter and the store: what a writer's cost per message hangs on.
  const metric = (name) => host.process.metric(name);
  const calls = {
    convert: await metric('tbi_conversion_seconds_count'),
    store: await metric('tbi_store_seconds_count'),
    convertMs: (await metric('tbi_conversion_seconds_sum')) * 1000,
    storeMs: (await metric('tbi_store_seconds_sum')) * 1000,
    stallReconnects: await metric('tbi_pulsar_stalled_reconnects_total'),
  };
  await host.stop();
  return { handled: stored, rate: stored / seconds, usage, treeUsPerMessage: hostAndConverterUs(usage), calls };
}

log(`case groups: ${GROUPS.join(', ')}; starting the test instance (scripts/brokers/pulsar.sh start)`);
execFileSync(path.join(root, 'scripts/brokers/pulsar.sh'), ['start'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...ports.env } });
await createSubscriptions();
log(`producing ${MESSAGES} messages to ${TOPIC} (${cases.length} subscriptions)`);
const produceRate = await produceBacklog();
log(`produced at ${Math.round(produceRate)} messages/s`);
const dir = await mkdtemp(path.join(tmpdir(), 'tbi-pulsar-bench-'));
const groups = [];
if (GROUPS.includes('drain')) groups.push(await drainGroup());
if (GROUPS.includes('replay')) groups.push(await replayGroup());
// The topic is left for the broker's retention; delete it so the bookie does not keep 100k messages.
await fetch(`${WEB}/admin/v2/persistent/public/default/bench-${run}?force=true`, { method: 'DELETE' }).catch(() => {});

console.log(
  JSON.stringify(
    suiteResult(
      {
        suite: 'plugin-pulsar',
        title: 'Pulsar (WebSocket driver): draining a backlog and replaying a topic through the whole pipeline',
        description: `${MESSAGES} small JSON messages produced beforehand to one topic of the local Pulsar 4.0.7 standalone. Drain: one Shared subscription per case, so every case drains the same backlog; receiverQueueSize ${QUEUE}. Rate = messages / time from the consumer starting to the last message handled (for the host: counted in the embedded platform's processed_messages). Baseline: the fastest driver case. A warm-up drain (driver, 4 connections, a subscription of its own) comes first, so that the broker's JIT is warm for every case. Replay: the same topic read again from its start by the driver's reader with a no-op handler (baseline), the plugin's replay reader and a host's replay (details in the replay notes). CPU per message, peak and final RSS and event-loop stalls: the bench process for the in-process cases (its peak includes the cases before), the host process for the host cases.`,
        columns: ['case', 'messages/s', 'vs baseline', 'host + converter CPU µs/msg', 'broker CPU µs/msg', ...MEASURE_COLUMNS],
        notes: [
          '"host + converter": the host process and its converter child process; "broker": the Pulsar standalone JVM (broker, WebSocket service and bookie) over the same case. The 2 cores are shared by the broker, the host, its converter process and the bench: compare ratios and CPU per message of one run.',
          `producing the backlog over the WebSocket API (2000 in flight): ${Math.round(produceRate)} messages/s`,
        ],
      },
      groups,
    ),
  ),
);
process.exit(0);

/** The backlog drain: the driver alone on each connection count (the best is the baseline), then a real host. */
async function drainGroup() {
  const driverRuns = [];
  const warmup = WARMUP ? await driverNoop(4, 'warmup') : undefined;
  if (warmup) log(`warm-up drain, 4 connection(s): ${Math.round(warmup.rate)} messages/s (not reported as a case)`);
  for (const n of CONNECTIONS) {
    const r = await withBrokerCpu(() => driverNoop(n));
    driverRuns.push({ n, ...r });
    log(`driver, ${n} connection(s): ${Math.round(r.rate)} messages/s (${r.handled} of ${MESSAGES})`);
  }
  const best = driverRuns.reduce((a, b) => (b.rate > a.rate ? b : a));
  const whole = await withBrokerCpu(() => wholePipeline(dir, best.n));
  log(
    `whole pipeline (${best.n} connection(s)): ${Math.round(whole.rate)} messages/s (${whole.handled} of ${MESSAGES}); CPU µs/msg host ${r1(whole.usage.cpuUsPerMessage)}, host + converter ${r1(whole.treeUsPerMessage)}, broker ${r1(whole.brokerUsPerMessage)}; ${whole.calls.store} ingest calls of ${r1(whole.calls.storeMs / Math.max(1, whole.calls.store))} ms, ${whole.calls.convert} converter calls of ${r1(whole.calls.convertMs / Math.max(1, whole.calls.convert))} ms; split ${JSON.stringify(whole.usage.split)}`,
  );
  return {
    name: 'drain',
    rows: [
      ...driverRuns.map((r) =>
        rateRow(`WebSocket driver, no-op handler, ${r.n} connection(s)${r === best ? ' (baseline)' : ''}`, r, best.rate, ['', r1(r.brokerUsPerMessage)]),
      ),
      rateRow(`whole pipeline: tbi host, ${best.n} connection(s), sandbox converter, embedded SQLite`, whole, best.rate, [
        r1(whole.treeUsPerMessage),
        r1(whole.brokerUsPerMessage),
      ]),
    ],
    notes: [
      ...(warmup ? [`before the cases, a warm-up drain of the same backlog (driver, 4 connections, not a case): ${Math.round(warmup.rate)} messages/s`] : []),
      ...cpuSplitNote('whole pipeline', whole.usage),
      `whole pipeline: ${whole.calls.convert} converter calls and ${whole.calls.store} ingest calls, ${Math.round(whole.handled / Math.max(1, whole.calls.store))} messages per ingest call on average; a converter call took ${r1(whole.calls.convertMs / Math.max(1, whole.calls.convert))} ms and an ingest call ${r1(whole.calls.storeMs / Math.max(1, whole.calls.store))} ms on average (wall time, the fsync included); the stall watchdog reconnected ${whole.calls.stallReconnects} time(s)`,
      ...[...driverRuns, { n: best.n, host: true, ...whole }]
        .filter((r) => r.handled < MESSAGES)
        .map(
          (r) =>
            `${r.host ? 'whole pipeline' : `driver, ${r.n} connection(s)`}: stalled after ${r.handled} of ${MESSAGES} (nothing more for ${STALL_MS / 1000} s; rate is up to the last message)`,
        ),
    ],
  };
}

/** Replay: the driver's reader (baseline), the plugin's replay reader, a host's replay through the control API. */
async function replayGroup() {
  const rp = await replayCases({ webServiceUrl: WEB, topic: TOPIC, messages: MESSAGES, pluginDir, dir, withBrokerCpu, log });
  return {
    name: 'replay',
    rows: [
      rateRow('replay: WebSocket reader from earliest, no-op handler (baseline)', rp.raw, rp.raw.rate, ['', r1(rp.raw.brokerUsPerMessage)]),
      rateRow(`replay: plugin's replay reader in-process (range lookups, batches of ${rp.maxBatch}, toRawMessage)`, rp.source, rp.raw.rate, [
        '',
        r1(rp.source.brokerUsPerMessage),
      ]),
      rateRow('replay: tbi host via POST /api/integrations/:name/replays, sandbox converter, embedded SQLite', rp.host, rp.raw.rate, [
        r1(rp.host.treeUsPerMessage),
        r1(rp.host.brokerUsPerMessage),
      ]),
    ],
    notes: [
      `replay: the backlog topic read ${rp.rounds} time(s) from its start, the three readers alternating (the rows are the means); host / baseline per round: ${rp.hostRatios.map((r) => r.toFixed(2)).join(', ')}`,
      `replay: the host's live subscription starts at Latest (it reads none of the topic), so every replayed message is stored once: the replay's read and stored counts and the platform's rows are checked to be ${rp.messages}. Rate = messages / (finishedAt - createdAt) of the replay as GET /api/replays/:id shows it; the host's costs from the POST on.`,
    ],
  };
}
