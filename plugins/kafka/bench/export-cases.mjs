// The `export` case group of the Kafka bench (run.mjs; BENCH_CASES=export runs it alone).
// BENCH_EXPORT_RECORDS records (default 100,000), BENCH_EXPORT_ROUNDS times (default 2; the rows are
// the means), each round:
//   0. (not measured) a `tbi start` host stores N records: a kafka integration consumes N JSON
//      records produced to an input topic, one stored record (its own ts) per Kafka record, while
//      the exporting integration is `enabled: false` (its export keeps the platform's record log);
//   a) raw @platformatic/kafka producer (idempotent, acks=all, no compression, as the plugin's
//      downlink) producing N records of the same key and value sizes to a fresh topic, in sends of
//      the export's batch size, one send at a time (the baseline),
//   b) the same data directory in a new host with only the exporting integration enabled: its
//      `export:` block reads the record log, encodes each record in the sandbox (a downlink
//      converter) and produces it to a fresh topic through the plugin's downlink. Rate = N / time
//      from the host's "export started" log line to the export's lag being 0 (its status in
//      GET /api/integrations/:name, `export.lag`/`cursor`/`sent`); CPU and RSS of the host.
// Both topics have 3 partitions; the records on them are counted (end offsets) after each case.
import path from 'node:path';
import { Admin, Producer } from '@platformatic/kafka';
import { startHostProcess } from '@tbi/plugin-testkit';
import { average, hostAndConverterUs, measureInProcess, processedCount, startMeasuredHost } from '../../../scripts/bench-support.mjs';

const N = Number(process.env.BENCH_EXPORT_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_EXPORT_ROUNDS ?? 2);
const BATCH = 500; // the export's batchSize and the downlink's batchSize (both default 500)
const PARTITIONS = 3;
const TOKEN = 'kafka-bench-export-token-0123456789';
const BASE_TS = 1_700_000_000_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const UPLINK = `
  var data = decodeToJson(payload);
  return { deviceName: 'dev-' + (data.n % 1000), deviceType: 'bench', telemetry: { ts: ${BASE_TS} + data.n, values: { temperature: data.t, humidity: data.h } } };
`;
const ENCODER = `
  return { contentType: 'JSON', data: JSON.stringify({ device: metadata.deviceName, ts: Number(metadata.ts), t: msg.temperature, h: msg.humidity, seq: Number(metadata.seq) }), metadata: {} };
`;
/** What the encoder makes of record n (log entry n + 1): the baseline produces the same bytes. */
const exported = (n) => ({
  key: Buffer.from(`dev-${n % 1000}`),
  value: Buffer.from(JSON.stringify({ device: `dev-${n % 1000}`, ts: BASE_TS + n, t: 20 + (n % 100) / 10, h: n % 100, seq: n + 1 })),
});

/**
 * @typedef {object} ExportBench what the group needs of the suite
 * @property {string[]} brokers
 * @property {string} pluginDir
 * @property {string} dir a temporary folder for the hosts
 * @property {string} run a name part unique to this run
 * @property {(topic: string, partitions: number) => Promise<void>} createTopic
 * @property {(topic: string, count: number) => Promise<number>} produceBacklog the suite's input records ({t, h, n} keyed dev-n%1000)
 * @property {(msg: string) => void} log
 */

/**
 * Runs the export group; returns its results for the suite's rows.
 * @param {ExportBench} bench
 */
export async function exportCases(bench) {
  /** @type {{ raw: any[], host: any[] }} */
  const rounds = { raw: [], host: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    const dataDir = path.join(bench.dir, `export-${r}`, 'data');
    bench.log(`export round ${r}: storing ${N} records in a host (not measured)`);
    await storeRecords(bench, dataDir, `bench-export-in-${bench.run}-${r}`);
    const raw = await rawProducer(bench, `bench-export-raw-${bench.run}-${r}`);
    bench.log(`export round ${r}, raw producer: ${Math.round(raw.rate)} records/s, ${raw.usage.cpuUsPerMessage.toFixed(1)} µs CPU/record`);
    const host = await hostExport(bench, dataDir, `bench-export-out-${bench.run}-${r}`, path.join(bench.dir, `export-${r}`, 'export'));
    bench.log(
      `export round ${r}, host: ${Math.round(host.rate)} records/s, ${host.usage.cpuUsPerMessage.toFixed(1)} µs CPU/record, peak RSS ${Math.round(host.usage.peakRssMb)} MB`,
    );
    rounds.raw.push(raw);
    rounds.host.push(host);
  }
  return {
    records: N,
    rounds: ROUNDS,
    batch: BATCH,
    valueBytes: exported(N / 2).value.length,
    raw: average(rounds.raw),
    host: average(rounds.host),
    hostRatios: rounds.host.map((h, i) => h.rate / rounds.raw[i].rate),
  };
}

/** The integration that exports (to `topic`), enabled or not. */
function exporter(bench, topic, enabled) {
  return {
    name: 'out',
    type: 'kafka',
    enabled,
    config: { bootstrapServers: bench.brokers, downlink: { topic } },
    uplinkConverter: { inline: 'return [];' },
    export: { converter: { inline: ENCODER }, events: ['telemetry'] },
  };
}

function hostConfig(bench, dataDir, integrations) {
  return { http: {}, auth: { token: TOKEN }, dataDir, plugins: [bench.pluginDir], log: { level: 'info' }, integrations };
}

/** 0. A host stores N records (one per input record) with the export configured but disabled. */
async function storeRecords(bench, dataDir, input) {
  await bench.createTopic(input, PARTITIONS);
  await bench.produceBacklog(input, N);
  const integrations = [
    {
      name: 'in',
      type: 'kafka',
      config: { bootstrapServers: bench.brokers, uplink: { topics: [input], groupId: `${input}-group` } },
      uplinkConverter: { inline: UPLINK },
    },
    exporter(bench, 'unused', false),
  ];
  const host = await startHostProcess({ dir: path.join(dataDir, '..', 'store'), token: TOKEN, config: hostConfig(bench, dataDir, integrations) });
  try {
    const deadline = performance.now() + 300_000;
    while (processedCount(dataDir) < N) {
      if (performance.now() > deadline) throw new Error(`only ${processedCount(dataDir)} of ${N} records stored`);
      await sleep(200);
    }
  } finally {
    await host.stop();
  }
}

/** a) The baseline: N records like the exported ones, produced in sends of BATCH, one at a time. */
async function rawProducer(bench, topic) {
  await bench.createTopic(topic, PARTITIONS);
  const producer = new Producer({ clientId: 'bench-export-raw', bootstrapBrokers: bench.brokers, idempotent: true, acks: -1 });
  // Connected, with its producer id, before the clock starts (as the plugin's producer is when the export begins).
  await bench.createTopic(`${topic}-warm`, 1);
  await producer.send({ messages: [{ topic: `${topic}-warm`, ...exported(0) }] });
  const started = performance.now();
  const { usage } = await measureInProcess(N, async () => {
    for (let i = 0; i < N; i += BATCH) {
      const messages = [];
      for (let n = i; n < Math.min(N, i + BATCH); n++) messages.push({ topic, ...exported(n) });
      await producer.send({ messages });
    }
  });
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  await expectRecords(bench, topic);
  return { rate: N / seconds, usage };
}

/** b) A host with only the exporter enabled exports the N stored records. */
async function hostExport(bench, dataDir, topic, dir) {
  await bench.createTopic(topic, PARTITIONS);
  // Measured from "export started after log entry 0": the export begins there, before "host started".
  const host = await startMeasuredHost({ dir, token: TOKEN, config: hostConfig(bench, dataDir, [exporter(bench, topic, true)]), beginOn: 'export started' });
  try {
    let status;
    const deadline = performance.now() + 600_000;
    for (;;) {
      status = (await host.process.api('/integrations/out')).body.export;
      if (status !== undefined && status.head >= N && status.lag === 0) break;
      if (performance.now() > deadline) throw new Error(`the export did not catch up in 10 min: ${JSON.stringify(status)}`);
      await sleep(50);
    }
    const seconds = (performance.now() - host.begunAt) / 1000;
    const usage = await host.end(N);
    if (status.head !== N || status.cursor !== N || status.sent !== N) throw new Error(`export: ${JSON.stringify(status)}, expected ${N} sent`);
    const lag = await host.process.metric('tbi_export_lag_records', { integration: 'out' });
    await expectRecords(bench, topic);
    return { rate: N / seconds, usage, treeUsPerMessage: hostAndConverterUs(usage), lagMetric: lag };
  } finally {
    await host.stop();
  }
}

/** Checks that `topic` holds exactly N records (the sum of its partitions' end offsets). */
async function expectRecords(bench, topic) {
  const admin = new Admin({ clientId: 'bench-export-check', bootstrapBrokers: bench.brokers });
  try {
    const [listed] = await admin.listOffsets({
      topics: [{ name: topic, partitions: Array.from({ length: PARTITIONS }, (_, p) => ({ partitionIndex: p, timestamp: -1n })) }],
    });
    const count = listed.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    if (count !== N) throw new Error(`${topic} holds ${count} records, expected ${N}`);
  } finally {
    await admin.close();
  }
}
