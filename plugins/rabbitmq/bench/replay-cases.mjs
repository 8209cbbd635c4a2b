// The `replay` case group of the RabbitMQ bench (run.mjs; BENCH_CASES=replay runs it alone).
// BENCH_REPLAY_MESSAGES small JSON messages (default 100,000) are published to a stream of its own;
// then offsets 0 – N of it are read BENCH_REPLAY_ROUNDS times (default 2; the rows are the means),
// each round in this order:
//   a) raw amqplib: a consumer at x-stream-offset 0, prefetch 2 × maxBatch, a no-op handler, one
//      `multiple` ack per maxBatch deliveries, stops at offset N - 1 (the baseline: the client alone),
//   b) the plugin's ReplaySource in this process (`integration.replay`, offsets 0 to N): its own
//      connection, the end/range probe, batches of maxBatch mapped by the live path's `toRawMessage`,
//   c) a real `tbi start` process with an integration on the stream (live from `next`, so the live
//      consumer reads none of it), the replay started by `POST /api/integrations/bench/replays`
//      {from: "0", to: "N"} and followed by `GET /api/replays/:id` until it is done: read again,
//      converted in the sandbox and stored in the embedded platform (one row per message, counted
//      in the platform's database). Rate = N / (finishedAt - createdAt of the replay).
// maxBatch is the host's replay batch (500; BENCH_REPLAY_BATCH sets a) and b) only).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { bareContext, storedTelemetry } from '@tbi/plugin-testkit';
import { amqplibDriver, createRabbitmqIntegration, rabbitmqConfigSchema } from '../dist/index.js';
import { average, followHostReplay, hostReplayResult, measureInProcess, startMeasuredHost } from '../../../scripts/bench-support.mjs';

const N = Number(process.env.BENCH_REPLAY_MESSAGES ?? 100_000);
const MAX_BATCH = Number(process.env.BENCH_REPLAY_BATCH ?? 500);
const ROUNDS = Number(process.env.BENCH_REPLAY_ROUNDS ?? 2);
const TOKEN = 'rabbitmq-bench-replay-token-0123456789';

// One row per message (its own ts), so the count of stored rows is the count of messages stored.
const CONVERTER = `
  var data = decodeToJson(payload);
  return { deviceName: 'dev-' + (data.n % 1000), deviceType: 'bench', telemetry: { ts: 1700000000000 + data.n, values: { temperature: data.temperature } } };
`;

/**
 * @typedef {object} ReplayBench what the group needs of the suite
 * @property {string} url AMQP URL of the test node
 * @property {{ host: string, port: number, username: string, password: string }} connection
 * @property {string} pluginDir
 * @property {string} dir a temporary folder for the hosts
 * @property {() => number | undefined} brokerCpuSeconds
 * @property {(msg: string) => void} log
 */

/**
 * Runs the replay group; returns its results for the suite's rows.
 * @param {ReplayBench} bench
 */
export async function replayCases(bench) {
  const stream = `bench-replay-${process.pid}-${Date.now().toString(36)}`;
  const conn = await amqp.connect(bench.url);
  bench.log(`replay: publishing ${N} messages to the stream ${stream}`);
  const publishRate = await publish(conn, stream);
  /** @type {Record<'raw' | 'source' | 'host', any[]>} */
  const rounds = { raw: [], source: [], host: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, fn] of /** @type {const} */ ([
      ['raw', () => inProcess(() => rawRead(bench.url, stream))],
      ['source', () => inProcess(() => replaySource(bench.url, stream))],
      ['host', () => hostReplay(bench, stream, path.join(bench.dir, `replay-${r}`))],
    ])) {
      const before = bench.brokerCpuSeconds();
      const result = await fn();
      const after = bench.brokerCpuSeconds();
      result.brokerUsPerMessage = before === undefined || after === undefined ? undefined : ((after - before) * 1e6) / N;
      rounds[name].push(result);
      bench.log(
        `replay round ${r}, ${name}: ${Math.round(result.rate)} messages/s, ${result.usage.cpuUsPerMessage.toFixed(2)} µs CPU/msg, peak RSS ${Math.round(result.usage.peakRssMb)} MB`,
      );
    }
  }
  const ch = await conn.createChannel();
  await ch.deleteQueue(stream);
  await conn.close();
  return {
    messages: N,
    maxBatch: MAX_BATCH,
    rounds: ROUNDS,
    publishRate,
    raw: average(rounds.raw),
    source: average(rounds.source),
    host: average(rounds.host),
    hostRatios: rounds.host.map((h, i) => h.rate / rounds.raw[i].rate),
  };
}

/** Publishes N messages (confirms, 1000 in flight); returns the publish rate. */
async function publish(conn, stream) {
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(stream, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  const started = performance.now();
  for (let i = 0; i < N; i += 1000) {
    for (let j = i; j < Math.min(N, i + 1000); j++) {
      ch.sendToQueue(stream, Buffer.from(JSON.stringify({ deviceName: 'sensor-0001', temperature: 21.5, n: j })), { contentType: 'application/json' });
    }
    await ch.waitForConfirms();
  }
  await ch.close();
  return N / ((performance.now() - started) / 1000);
}

/** Rate and the costs of this process around `fn`, which must read N messages. */
async function inProcess(fn) {
  const started = performance.now();
  const { result, usage } = await measureInProcess(N, fn);
  if (result !== N) throw new Error(`read ${result} of ${N} messages`);
  return { rate: N / ((performance.now() - started) / 1000), usage };
}

async function rawRead(url, stream) {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(MAX_BATCH * 2);
  let count = 0;
  await new Promise((resolve) => {
    ch.consume(
      stream,
      (m) => {
        count++;
        const last = m.properties.headers['x-stream-offset'] >= N - 1;
        if (count % MAX_BATCH === 0 || last) ch.ack(m, true);
        if (last) resolve();
      },
      { noAck: false, arguments: { 'x-stream-offset': 0 } },
    );
  });
  await conn.close();
  return count;
}

async function replaySource(url, stream) {
  const config = rabbitmqConfigSchema.parse({ url, uplink: { queues: ['unused'] }, replay: { stream } });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tbi-replay-bench-'));
  const uplink = { submit: async () => [], reject: async () => {} };
  const integration = await createRabbitmqIntegration(bareContext({ type: 'rabbitmq', config, uplink, dataDir }), amqplibDriver());
  let count = 0;
  for await (const batch of integration.replay({
    from: { offset: '0' },
    to: { offset: String(N) },
    maxBatch: MAX_BATCH,
    signal: new AbortController().signal,
  })) {
    count += batch.messages.length;
  }
  return count;
}

/** c): a real host replays offsets 0 – N through its converter into its embedded platform. */
async function hostReplay(bench, stream, dir) {
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
          type: 'rabbitmq',
          config: {
            ...bench.connection,
            uplink: { queues: [stream], streamOffset: 'next' },
            topology: { queues: [{ name: stream, arguments: { 'x-queue-type': 'stream' } }] },
          },
          uplinkConverter: { inline: CONVERTER },
        },
      ],
    },
  });
  try {
    const replay = await followHostReplay(host, 'bench', { from: '0', to: String(N) });
    return await hostReplayResult(host, replay, N, storedTelemetry(dataDir, 'temperature', { prefix: 'dev-' }).length);
  } finally {
    await host.stop();
  }
}
