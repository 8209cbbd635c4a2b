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
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Consumer } from '@platformatic/kafka';
import { bareContext, storedTelemetry } from '@tbi/plugin-testkit';
import { createKafkaIntegration, kafkaConfigSchema, platformaticDriver } from '../dist/index.js';
import { average, hostAndConverterUs, measureInProcess, startMeasuredHost } from '../../../scripts/bench-support.mjs';

const N = Number(process.env.BENCH_REPLAY_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_REPLAY_ROUNDS ?? 2);
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
  /** @type {Record<'raw' | 'source' | 'host', any[]>} */
  const rounds = { raw: [], source: [], host: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, fn] of /** @type {const} */ ([
      ['raw', () => inProcess(() => rawRead(bench, topic, `bench-replay-raw-${bench.run}-${r}`))],
      ['source', () => inProcess(() => replaySource(bench, topic))],
      ['host', () => hostReplay(bench, topic, path.join(bench.dir, `replay-${r}`), `bench-replay-live-${bench.run}-${r}`)],
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

/** c) A real host replays the topic through its converter into its embedded platform. */
async function hostReplay(bench, topic, dir, groupId) {
  const dataDir = path.join(dir, 'data');
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
          config: { bootstrapServers: bench.brokers, uplink: { topics: [topic], groupId, autoOffsetReset: 'latest' } },
          uplinkConverter: { inline: CONVERTER },
        },
      ],
    },
  });
  try {
    const api = host.process.api;
    for (let i = 0; (await api('/integrations/bench')).body.health?.status !== 'up'; i++) {
      if (i > 300) throw new Error('the integration did not come up in 30 s');
      await sleep(100);
    }
    host.beginNow();
    const started = await api('/integrations/bench/replays', { method: 'POST', body: JSON.stringify({ from: 'earliest' }) });
    if (started.status !== 202) throw new Error(`POST /api/integrations/bench/replays: ${started.status} ${JSON.stringify(started.body)}`);
    let replay = started.body;
    const deadline = performance.now() + 600_000;
    while (replay.state === 'running' || replay.state === 'waiting') {
      if (performance.now() > deadline) throw new Error(`the replay did not finish in 10 min: ${JSON.stringify(replay)}`);
      await sleep(100);
      replay = (await api(`/replays/${replay.id}`)).body;
    }
    const usage = await host.end(N);
    const rows = storedTelemetry(dataDir, 'temperature', { prefix: 'dev-' }).length;
    if (replay.state !== 'done' || replay.read !== N || replay.stored !== N || rows !== N) {
      throw new Error(`replay ${replay.state}: read ${replay.read}, stored ${replay.stored} (${rows} rows in the platform) of ${N}: ${replay.detail ?? ''}`);
    }
    return { rate: N / ((replay.finishedAt - replay.createdAt) / 1000), usage, treeUsPerMessage: hostAndConverterUs(usage) };
  } finally {
    await host.stop();
  }
}
