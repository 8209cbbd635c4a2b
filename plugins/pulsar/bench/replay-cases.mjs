// The `replay` case group of the Pulsar bench (run.mjs; BENCH_CASES=replay runs it alone). The
// suite's backlog topic (BENCH_MESSAGES messages) is read again from its start
// BENCH_REPLAY_ROUNDS times (default 2; the rows are the means), each round in this order:
//   a) the WebSocket driver's reader alone (the endpoint the replay uses), from `earliest`, a no-op
//      handler, room freed a batch at a time as the replay does (the baseline),
//   b) the plugin's ReplaySource in this process (`integration.replay` from time 0): its range
//      lookups (admin messageid/{time}, lastMessageId), batches of 500 mapped by the live path's
//      `toRawMessage`,
//   c) a real `tbi start` process with an integration on the topic (its live subscription starts
//      at `Latest`, so it reads none of it), the replay started by
//      `POST /api/integrations/bench/replays` {from: "1970-01-01T00:00:00Z"} and followed until it
//      is done: converted in the sandbox and stored in the embedded platform (one row per message,
//      counted in the platform's database). Rate = N / (finishedAt - createdAt of the replay).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bareContext, storedTelemetry } from '@tbi/plugin-testkit';
import { createPulsarIntegration, pulsarConfigSchema, websocketDriver } from '../dist/index.js';
import { average, followHostReplay, hostReplayResult, measureInProcess, startMeasuredHost } from '../../../scripts/bench-support.mjs';

const ROUNDS = Number(process.env.BENCH_REPLAY_ROUNDS ?? 2);
const MAX_BATCH = 500; // the host's replay batch
const QUEUE = 1000; // the reader's receiverQueueSize (the WebSocket service's cap)
const TOKEN = 'pulsar-bench-replay-token-0123456789';

// One row per message (its own ts), so the count of stored rows is the count of messages stored.
const CONVERTER = `
  var data = decodeToJson(payload);
  return { deviceName: 'dev-' + (data.n % 1000), deviceType: 'bench', telemetry: { ts: 1700000000000 + data.n, values: { temperature: data.t } } };
`;

/**
 * @typedef {object} ReplayBench what the group needs of the suite
 * @property {string} webServiceUrl
 * @property {string} topic the suite's backlog topic
 * @property {number} messages on it
 * @property {string} pluginDir
 * @property {string} dir a temporary folder for the hosts
 * @property {(run: () => Promise<any>) => Promise<any>} withBrokerCpu adds brokerUsPerMessage to a case's result
 * @property {(msg: string) => void} log
 */

/**
 * Runs the replay group; returns its results for the suite's rows.
 * @param {ReplayBench} bench
 */
export async function replayCases(bench) {
  const N = bench.messages;
  /** @type {Record<'raw' | 'source' | 'host', any[]>} */
  const rounds = { raw: [], source: [], host: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, fn] of /** @type {const} */ ([
      ['raw', () => inProcess(N, () => rawRead(bench))],
      ['source', () => inProcess(N, () => replaySource(bench))],
      ['host', () => hostReplay(bench, path.join(bench.dir, `replay-${r}`), `bench-replay-live-${r}`)],
    ])) {
      const result = await bench.withBrokerCpu(fn);
      rounds[name].push(result);
      bench.log(
        `replay round ${r}, ${name}: ${Math.round(result.rate)} messages/s, ${result.usage.cpuUsPerMessage.toFixed(2)} µs CPU/msg, peak RSS ${Math.round(result.usage.peakRssMb)} MB`,
      );
    }
  }
  return {
    messages: N,
    rounds: ROUNDS,
    maxBatch: MAX_BATCH,
    raw: average(rounds.raw),
    source: average(rounds.source),
    host: average(rounds.host),
    hostRatios: rounds.host.map((h, i) => h.rate / rounds.raw[i].rate),
  };
}

/** Rate and the costs of this process around `fn`, which must read `n` messages. */
async function inProcess(n, fn) {
  const started = performance.now();
  const { result, usage } = await measureInProcess(n, fn);
  if (result !== n) throw new Error(`read ${result} of ${n} messages`);
  return { handled: n, rate: n / ((performance.now() - started) / 1000), usage };
}

/**
 * a) The driver's reader alone, from the topic's first message. Room is freed a batch at a time
 * (MAX_BATCH flow frames at once), as the replay does when it takes a batch: freeing it message by
 * message made the broker dispatch in small pieces and cost it about 20 µs more per message.
 */
async function rawRead(bench) {
  let count = 0;
  /** @type {() => void} */
  let finish = () => {};
  const done = new Promise((resolve) => (finish = resolve));
  /** @type {import('../dist/driver/types.js').ReaderConnection | undefined} */
  let reader;
  /** @type {string[]} */
  let owed = [];
  const free = () => {
    if (reader === undefined) return; // frames can come with the upgrade response, before `reader()` resolved
    for (const id of owed) reader.next(id);
    owed = [];
  };
  reader = await websocketDriver(bench.webServiceUrl).reader({
    topic: bench.topic,
    startAfter: 'earliest',
    receiverQueueSize: QUEUE,
    name: 'bench-replay-raw',
    onMessage(m) {
      owed.push(m.messageId);
      if (owed.length >= MAX_BATCH) free();
      if (++count === bench.messages) finish();
    },
    onClose() {},
  });
  free();
  await done;
  await reader.close();
  return count;
}

/** b) The plugin's reader in this process, with a no-op consumer of its batches. */
async function replaySource(bench) {
  const config = pulsarConfigSchema.parse({ webServiceUrl: bench.webServiceUrl, uplink: { topics: [bench.topic], subscriptionName: 'unused' } });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tbi-pulsar-replay-bench-'));
  const uplink = { submit: async () => [], reject: async () => {} };
  const integration = createPulsarIntegration(bareContext({ type: 'pulsar', config, uplink, dataDir }), websocketDriver(bench.webServiceUrl));
  let count = 0;
  for await (const batch of integration.replay({ from: { time: 0 }, maxBatch: MAX_BATCH, signal: new AbortController().signal })) {
    count += batch.messages.length;
  }
  return count;
}

/** c) A real host replays the topic through its converter into its embedded platform. */
async function hostReplay(bench, dir, subscription) {
  const N = bench.messages;
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
          type: 'pulsar',
          config: { webServiceUrl: bench.webServiceUrl, uplink: { topics: [bench.topic], subscriptionName: subscription, initialPosition: 'Latest' } },
          uplinkConverter: { inline: CONVERTER },
        },
      ],
    },
  });
  try {
    const replay = await followHostReplay(host, 'bench', { from: '1970-01-01T00:00:00Z' });
    const result = await hostReplayResult(host, replay, N, storedTelemetry(dataDir, 'temperature', { prefix: 'dev-' }).length);
    return { handled: N, ...result };
  } finally {
    await host.stop();
  }
}
