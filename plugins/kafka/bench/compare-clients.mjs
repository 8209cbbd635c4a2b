// One-off evaluation of the two pure-JS Kafka clients against the real Kafka 4 test broker
// (scripts/brokers/kafka.sh start). Not part of `pnpm bench`; results are in the plugin README.
//   node plugins/kafka/bench/compare-clients.mjs [messages]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import { kafkaListeners } from '../../../scripts/ports.mjs';

const N = Number(process.argv[2] ?? 50_000);
const root = path.resolve(import.meta.dirname, '../../..');
const ca = readFileSync(path.join(root, '.cache/kafka/ssl/ca.pem'), 'utf8');
// The shared test broker's listeners (scripts/ports.env, or the environment).
const { plaintext: PLAINTEXT, sasl: SASL, ssl: SSL } = kafkaListeners();
const results = {};
const run = Date.now().toString(36);
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

async function check(client, name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    results[`${client} ${name}`] = `ok${detail ? ` (${detail})` : ''} ${Date.now() - started} ms`;
  } catch (error) {
    results[`${client} ${name}`] = `FAILED: ${error?.message ?? error}`;
  }
  log(client, name, results[`${client} ${name}`]);
}

const payload = Buffer.from(JSON.stringify({ temperature: 21.5, humidity: 40 }));

// ---------- @platformatic/kafka ----------
async function platformatic() {
  const brokers = [PLAINTEXT];
  const topic = `eval-plt-${run}`;
  const admin = new Admin({ clientId: 'eval', bootstrapBrokers: brokers });
  await check('platformatic', 'create topic (admin)', () => admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 }));
  await admin.close();
  const producer = new Producer({ clientId: 'eval', bootstrapBrokers: brokers, autocreateTopics: true, idempotent: true, acks: -1, compression: 'lz4' });
  await check('platformatic', `produce ${N} (idempotent, acks=all, lz4)`, async () => {
    const t = Date.now();
    for (let i = 0; i < N; i += 1000) {
      const messages = [];
      for (let j = i; j < Math.min(N, i + 1000); j++)
        messages.push({ topic, key: Buffer.from(`d${j % 50}`), value: payload, headers: new Map([[Buffer.from('h'), Buffer.from('v')]]) });
      await producer.send({ messages });
    }
    return `${Math.round(N / ((Date.now() - t) / 1000))} msg/s`;
  });
  await producer.close();
  const consumer = new Consumer({
    clientId: 'eval',
    groupId: `g-${topic}`,
    bootstrapBrokers: brokers,
    autocommit: false,
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
  });
  await check('platformatic', `join group, consume ${N}, commit`, async () => {
    const t = Date.now();
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    let n = 0;
    let last;
    let first;
    await new Promise((resolve, reject) => {
      stream.on('data', (m) => {
        if (n++ === 0) first = Date.now();
        last = m;
        if (n === N) resolve();
      });
      stream.on('error', reject);
    });
    const secs = (Date.now() - first) / 1000;
    const joinMs = first - t;
    await last.commit();
    const committed = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1, 2] }] });
    await stream.close();
    return `${Math.round(N / secs)} msg/s after the first message; first message ${joinMs} ms after consume(); committed ${committed.get(topic).join(',')}`;
  });
  await consumer.close();
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN']) {
    await check('platformatic', `SASL ${mechanism}`, async () => {
      const p = new Producer({
        clientId: 'eval',
        bootstrapBrokers: [SASL],
        autocreateTopics: true,
        sasl: { mechanism, username: 'tbi', password: 'tbi-secret' },
      });
      await p.send({ messages: [{ topic, value: payload }] });
      await p.close();
    });
  }
  await check('platformatic', 'SASL wrong password rejected', async () => {
    const p = new Producer({
      clientId: 'eval',
      bootstrapBrokers: [SASL],
      autocreateTopics: true,
      retries: 0,
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'tbi', password: 'nope' },
    });
    try {
      await p.send({ messages: [{ topic, value: payload }] });
    } catch {
      await p.close();
      return 'rejected';
    }
    throw new Error('accepted a wrong password');
  });
  await check('platformatic', 'SSL (CA)', async () => {
    const p = new Producer({ clientId: 'eval', bootstrapBrokers: [SSL], autocreateTopics: true, tls: { ca } });
    await p.send({ messages: [{ topic, value: payload }] });
    await p.close();
  });
}

// ---------- kafkajs ----------
async function kafkajsEval() {
  const { Kafka, CompressionTypes, logLevel } = kafkajs;
  const topic = `eval-kjs-${run}`;
  const kafka = new Kafka({ clientId: 'eval', brokers: [PLAINTEXT], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await check('kafkajs', 'create topic (admin)', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    await admin.disconnect();
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await check('kafkajs', `produce ${N} (idempotent, acks=all, gzip)`, async () => {
    await producer.connect();
    const t = Date.now();
    for (let i = 0; i < N; i += 1000) {
      const messages = [];
      for (let j = i; j < Math.min(N, i + 1000); j++) messages.push({ key: `d${j % 50}`, value: payload, headers: { h: 'v' } });
      await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.GZIP });
    }
    await producer.disconnect();
    return `${Math.round(N / ((Date.now() - t) / 1000))} msg/s`;
  });
  const consumer = kafka.consumer({ groupId: `g-${topic}`, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await check('kafkajs', `join group, consume ${N}, commit`, async () => {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const t = Date.now();
    let n = 0;
    let first;
    await new Promise((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (n === 0) first = Date.now();
            n += batch.messages.length;
            await consumer.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
            if (n >= N) resolve();
          },
        })
        .catch(reject);
    });
    const secs = (Date.now() - first) / 1000;
    const joinMs = first - t;
    const admin2 = kafka.admin();
    await admin2.connect();
    const offs = await admin2.fetchOffsets({ groupId: `g-${topic}`, topics: [topic] });
    await admin2.disconnect();
    await consumer.disconnect();
    return `${Math.round(N / secs)} msg/s after the first batch (commit per batch); first batch ${joinMs} ms after run(); committed ${offs[0].partitions.map((p) => p.offset).join(',')}`;
  });
  for (const mechanism of ['scram-sha-256', 'scram-sha-512', 'plain']) {
    await check('kafkajs', `SASL ${mechanism}`, async () => {
      const k = new Kafka({ clientId: 'eval', brokers: [SASL], logLevel: logLevel.NOTHING, sasl: { mechanism, username: 'tbi', password: 'tbi-secret' } });
      const p = k.producer();
      await p.connect();
      await p.send({ topic, messages: [{ value: payload }] });
      await p.disconnect();
    });
  }
  await check('kafkajs', 'SSL (CA)', async () => {
    const k = new Kafka({ clientId: 'eval', brokers: [SSL], logLevel: logLevel.NOTHING, ssl: { ca: [ca] } });
    const p = k.producer();
    await p.connect();
    await p.send({ topic, messages: [{ value: payload }] });
    await p.disconnect();
  });
  await check('kafkajs', 'compression lz4/snappy/zstd', async () => 'not built in: kafkajs ships gzip only; others need codec packages');
}

await platformatic();
await kafkajsEval();
console.log(JSON.stringify(results, null, 2));
process.exit(0);
