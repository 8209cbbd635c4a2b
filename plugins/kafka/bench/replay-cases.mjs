// The `replay` case group of the Kafka bench (run.mjs; BENCH_CASES=replay runs it alone).
// BENCH_REPLAY_RECORDS small JSON records (default 100,000) are produced to a 3-partition topic of
// their own; then the whole topic is read again BENCH_REPLAY_ROUNDS times (default 2; the rows are
// the means), each round in this order:
//   a) raw @platformatic/kafka: a consumer in a fresh group, `manual` mode from offset 0 of every
//      partition, a no-op handler, until N records (the baseline: the client alone),
//   b) the plugin's ReplaySource in this process (`integration.replay`, from `earliest`): its
//      ListOffsets planning, its temporary group, batches of 500 mapped by the live path's
//      `toRawMessage`, the group deleted at the end,
//   c) a real `tbi start` process with an integration on the topic (its live group starts at
//      `latest`, so the live consumer reads none of it), the replay started by
//      `POST /api/integrations/bench/replays` {from: "earliest"} and followed by
//      `GET /api/replays/:id` until it is done: read again, converted in the sandbox and stored in
//      the embedded platform (one row per record, counted in the platform's database).
//      Rate = N / (finishedAt - createdAt of the replay).
//   d) the same as c) with live records produced at BENCH_REPLAY_LIVE_RATE/s (default 1000) to a
//      second topic of the same integration for as long as the replay runs: the replay's rate
//      beside live traffic, and the live records' latency (producer send → stored_at in the
//      platform), to set against the latency group's figure without a replay. This is the replay's
//      bounded share at work: one replay batch in the pipeline at a time.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Consumer } from '@platformatic/kafka';
import { bareContext, storedTelemetry } from '@tbi/plugin-testkit';
import { createKafkaIntegration, kafkaConfigSchema, platformaticDriver } from '../dist/index.js';
import { average, followHostReplay, hostReplayResult, measureInProcess, percentiles, startMeasuredHost } from '../../../scripts/bench-support.mjs';
import { produceLive } from './live-producer.mjs';

const N = Number(process.env.BENCH_REPLAY_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_REPLAY_ROUNDS ?? 2);
const LIVE_RATE = Number(process.env.BENCH_REPLAY_LIVE_RATE ?? 1000);
const MAX_BATCH = 500; // the host's replay batch
const PARTITIONS = 3;
const TOKEN = 'kafka-bench-replay-token-0123456789';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One row per record (its own ts), so the count of stored rows is the count of records stored.
const CONVERTER = `
  var data = decodeToJson(payload);
  return { deviceName: metadata.key, deviceType: 'bench', telemetry: { ts: 1700000000000 + data.n, values: { temperature: data.t } } };
`;

/**
 * @typedef {object} ReplayBench what the group needs of the suite
 * @property {string[]} brokers
 * @property {string} pluginDir
 * @property {string} dir a temporary folder for the hosts
 * @property {string} run a name part unique to this run
 * @property {(topic: string, partitions: number) => Promise<void>} createTopic
 * @property {(topic: string, count: number) => Promise<number>} produceBacklog the suite's input records ({t, h, n} keyed dev-n%1000)
 * @property {(msg: string) => void} log
 */

/**
 * Runs the replay group; returns its results for the suite's rows.
 * @param {ReplayBench} bench
 */
export async function replayCases(bench) {
  const topic = `bench-replay-${bench.run}`;
  await bench.createTopic(topic, PARTITIONS);
  bench.log(`replay: producing ${N} records to ${topic}`);
  await bench.produceBacklog(topic, N);
  /** @type {Record<'raw' | 'source' | 'host' | 'live', any[]>} */
  const rounds = { raw: [], source: [], host: [], live: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    // A fresh live topic each round: the replay reads every topic of the integration, and this one
    // must be empty when it starts.
    const liveTopic = `bench-replay-live-${bench.run}-${r}`;
    await bench.createTopic(liveTopic, 1);
    for (const [name, fn] of /** @type {const} */ ([
      ['raw', () => inProcess(() => rawRead(bench, topic, `bench-replay-raw-${bench.run}-${r}`))],
      ['source', () => inProcess(() => replaySource(bench, topic))],
      ['host', () => hostReplay(bench, topic, path.join(bench.dir, `replay-${r}`), `bench-replay-group-${bench.run}-${r}`)],
      ['live', () => hostReplay(bench, topic, path.join(bench.dir, `replay-live-${r}`), `bench-replay-group-live-${bench.run}-${r}`, liveTopic)],
    ])) {
      const result = await fn();
      rounds[name].push(result);
      bench.log(
        `replay round ${r}, ${name}: ${Math.round(result.rate)} records/s, ${result.usage.cpuUsPerMessage.toFixed(2)} µs CPU/record, peak RSS ${Math.round(result.usage.peakRssMb)} MB`,
      );
    }
  }
  return {
    records: N,
    rounds: ROUNDS,
    maxBatch: MAX_BATCH,
    raw: average(rounds.raw),
    source: average(rounds.source),
    host: average(rounds.host),
    live: average(rounds.live),
    liveRate: LIVE_RATE,
    latency: {
      p50: Math.max(...rounds.live.map((l) => l.latency.p50)),
      p99: Math.max(...rounds.live.map((l) => l.latency.p99)),
      max: Math.max(...rounds.live.map((l) => l.latency.p100)),
    },
    liveStored: rounds.live.map((l) => `${l.liveStored}/${l.liveSent}`),
    hostRatios: rounds.host.map((h, i) => h.rate / rounds.raw[i].rate),
  };
}

/** Rate and the costs of this process around `fn`, which must read N records. */
async function inProcess(fn) {
  const started = performance.now();
  const { result, usage } = await measureInProcess(N, fn);
  if (result !== N) throw new Error(`read ${result} of ${N} records`);
  return { rate: N / ((performance.now() - started) / 1000), usage };
}

/** a) The client alone: `manual` mode from offset 0 in a fresh group, a no-op handler. */
async function rawRead(bench, topic, groupId) {
  const consumer = new Consumer({ clientId: 'bench-replay-raw', groupId, bootstrapBrokers: bench.brokers, autocommit: false });
  const offsets = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 0n }));
  const stream = await consumer.consume({ topics: [topic], mode: 'manual', offsets, autocommit: false });
  let count = 0;
  await new Promise((resolve, reject) => {
    stream.on('data', () => {
      if (++count === N) resolve();
    });
    stream.on('error', reject);
  });
  await stream.close();
  await consumer.close(true);
  return count;
}

/** b) The plugin's reader in this process, with a no-op consumer of its batches. */
async function replaySource(bench, topic) {
  const config = kafkaConfigSchema.parse({ bootstrapServers: bench.brokers, uplink: { topics: [topic] } });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tbi-kafka-replay-bench-'));
  const uplink = { submit: async () => [], reject: async () => {} };
  const ctx = bareContext({ type: 'kafka', config, uplink, dataDir });
  const integration = createKafkaIntegration(
    ctx,
    platformaticDriver({ clientId: 'bench-replay', bootstrapBrokers: bench.brokers, connectTimeout: 10_000, requestTimeout: 30_000 }),
  );
  let count = 0;
  for await (const batch of integration.replay({ from: { offset: 'earliest' }, maxBatch: MAX_BATCH, signal: new AbortController().signal })) {
    count += batch.messages.length;
  }
  return count;
}

/**
 * c) A real host replays the topic through its converter into its embedded platform; d) with
 * `liveTopic`, live records go to that topic (also the integration's) while the replay runs.
 */
async function hostReplay(bench, topic, dir, groupId, liveTopic) {
  const dataDir = path.join(dir, 'data');
  const topics = liveTopic === undefined ? [topic] : [topic, liveTopic];
  const host = await startMeasuredHost({
    dir,
    token: TOKEN,
    config: {
      http: {},
      auth: { token: TOKEN },
      dataDir,
      plugins: [bench.pluginDir],
      log: { level: 'info' },
      integrations: [
        {
          name: 'bench',
          type: 'kafka',
          config: { bootstrapServers: bench.brokers, uplink: { topics, groupId, autoOffsetReset: 'latest' } },
          uplinkConverter: { inline: CONVERTER },
        },
      ],
    },
  });
  try {
    /** @type {Promise<Map<string, number>> | undefined} */
    let live;
    const replay = await followHostReplay(host, 'bench', { from: 'earliest' }, (ended) => {
      if (liveTopic !== undefined) live = produceLive(bench.brokers, liveTopic, LIVE_RATE, ended, 'live');
    });
    const result = await hostReplayResult(host, replay, N, storedTelemetry(dataDir, 'temperature', { prefix: 'dev-' }).length);
    if (live === undefined) return result;
    return { ...result, ...(await liveLatency(dataDir, await live)) };
  } finally {
    await host.stop();
  }
}

/** Waits until every live record is stored; their latency from send to stored_at. */
async function liveLatency(dataDir, sentAt) {
  const db = new DatabaseSync(path.join(dataDir, 'platform.db'), { readOnly: true });
  try {
    const query = db.prepare('SELECT source_id, stored_at FROM processed_messages');
    const deadline = Date.now() + 60_000;
    let rows = query.all().filter((r) => sentAt.has(r.source_id));
    while (rows.length < sentAt.size && Date.now() < deadline) {
      await sleep(200);
      rows = query.all().filter((r) => sentAt.has(r.source_id));
    }
    const latency = percentiles(
      rows.map((r) => r.stored_at - sentAt.get(r.source_id)),
      [0.5, 0.99, 1],
    );
    return { latency, liveStored: rows.length, liveSent: sentAt.size };
  } finally {
    db.close();
  }
}
