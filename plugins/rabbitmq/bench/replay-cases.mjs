// Replay benchmark on the real RabbitMQ test node (scripts/brokers.sh start rabbitmq); needs the
// workspace built. Not part of `pnpm bench`; figures are in the plugin README ("Replay").
//   node plugins/rabbitmq/bench/replay.mjs [messages] [maxBatch] [rounds]
// Publishes N small JSON messages to a stream of its own, then reads offsets 0 – N of it, in the
// same process, alternating, `rounds` times each:
//   a) raw amqplib: a consumer at x-stream-offset 0, prefetch 2 × maxBatch, one `multiple` ack per
//      maxBatch deliveries, stops at offset N - 1 (the floor: the client's parsing alone),
//   b) the plugin's ReplaySource (`integration.replay`, from offset 0 to N): its own connection,
//      the end/range probe, batches of maxBatch mapped by the live path's `toRawMessage`.
// CPU µs per message and peak RSS of this process (scripts/bench-support.mjs), msg/s wall clock.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { bareContext } from '@tbi/plugin-testkit';
import { amqplibDriver, createRabbitmqIntegration, rabbitmqConfigSchema } from '../dist/index.js';
import { measureInProcess } from '../../../scripts/bench-support.mjs';
import { rabbitmqPorts } from '../../../scripts/ports.mjs';

const N = Number(process.argv[2] ?? process.env.BENCH_MESSAGES ?? 100_000);
const MAX_BATCH = Number(process.argv[3] ?? 500);
const ROUNDS = Number(process.argv[4] ?? 2);
const URL = `amqp://tbi:tbi-secret@127.0.0.1:${rabbitmqPorts().amqp}`;
const stream = `bench-replay-${process.pid}-${Date.now().toString(36)}`;
const log = (msg) => process.stderr.write(`[rabbitmq replay bench] ${msg}\n`);

async function publish(conn) {
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(stream, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  for (let i = 0; i < N; i += 1000) {
    for (let j = i; j < Math.min(N, i + 1000); j++) {
      ch.sendToQueue(stream, Buffer.from(JSON.stringify({ deviceName: 'sensor-0001', temperature: 21.5, n: j })), { contentType: 'application/json' });
    }
    await ch.waitForConfirms();
  }
  await ch.close();
}

async function raw() {
  const conn = await amqp.connect(URL);
  const ch = await conn.createChannel();
  await ch.prefetch(MAX_BATCH * 2);
  let count = 0;
  await new Promise((resolve) => {
    ch.consume(
      stream,
      (m) => {
        count++;
        if (count % MAX_BATCH === 0 || m.properties.headers['x-stream-offset'] >= N - 1) ch.ack(m, true);
        if (m.properties.headers['x-stream-offset'] >= N - 1) resolve();
      },
      { noAck: false, arguments: { 'x-stream-offset': 0 } },
    );
  });
  await conn.close();
  return count;
}

async function plugin() {
  const config = rabbitmqConfigSchema.parse({ url: URL, uplink: { queues: ['unused'] }, replay: { stream } });
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

const conn = await amqp.connect(URL);
log(`publishing ${N} messages to ${stream}`);
await publish(conn);
const rows = { 'a) raw amqplib': [], 'b) ReplaySource': [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of [
    ['a) raw amqplib', raw],
    ['b) ReplaySource', plugin],
  ]) {
    const t0 = performance.now();
    const { result, usage } = await measureInProcess(N, fn);
    const s = (performance.now() - t0) / 1000;
    if (result !== N) throw new Error(`${name}: read ${result} of ${N}`);
    rows[name].push({ msgsPerSec: N / s, ...usage });
    log(`${name} round ${r + 1}: ${Math.round(N / s)} msg/s, ${usage.cpuUsPerMessage.toFixed(2)} µs CPU/msg, peak RSS ${usage.peakRssMb.toFixed(0)} MB`);
  }
}
const ch = await conn.createChannel();
await ch.deleteQueue(stream);
await conn.close();
const mean = (xs, k) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
const summary = Object.fromEntries(
  Object.entries(rows).map(([name, xs]) => [
    name,
    {
      msgsPerSec: Math.round(mean(xs, 'msgsPerSec')),
      cpuUsPerMessage: +mean(xs, 'cpuUsPerMessage').toFixed(2),
      peakRssMb: Math.round(Math.max(...xs.map((x) => x.peakRssMb))),
    },
  ]),
);
process.stdout.write(`${JSON.stringify({ messages: N, maxBatch: MAX_BATCH, rounds: ROUNDS, summary })}\n`);
