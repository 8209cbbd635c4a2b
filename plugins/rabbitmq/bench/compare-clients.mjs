// One-off evaluation of amqplib against rabbitmq-client on the real RabbitMQ test node
// (scripts/brokers/rabbitmq.sh start). Not part of `pnpm bench`; results are in the plugin README.
//   node plugins/rabbitmq/bench/compare-clients.mjs [messages] [prefetch]
// Each client runs in a child process of its own (so CPU time and peak RSS are its own):
// publish N persistent messages with confirms (1000 in flight), then consume that backlog with
// manual acks, one `multiple` ack per 25 deliveries, the same prefetch for both.
import { fork } from 'node:child_process';
import { rabbitmqPorts } from '../../../scripts/ports.mjs';

const N = Number(process.env.BENCH_N ?? process.argv[2] ?? 200_000);
const PREFETCH = Number(process.env.BENCH_PREFETCH ?? process.argv[3] ?? 50);
const URL = process.env.AMQP_URL ?? `amqp://tbi:tbi-secret@127.0.0.1:${rabbitmqPorts().amqp}`;
const ACK_EVERY = 25;
const body = Buffer.from(JSON.stringify({ temperature: 21.5, humidity: 40, deviceName: 'sensor-0001' }));

function measure(fn) {
  return async () => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const detail = await fn();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { msgsPerSec: Math.round(N / (ms / 1000)), cpuMsPer1000: +(((cpu.user + cpu.system) / 1000 / N) * 1000).toFixed(1), ms: Math.round(ms), ...detail };
  };
}

async function amqplibRun(queue) {
  const amqp = (await import('amqplib')).default;
  const conn = await amqp.connect(URL);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true });
  const publish = await measure(async () => {
    for (let i = 0; i < N; i += 1000) {
      for (let j = i; j < Math.min(N, i + 1000); j++) ch.sendToQueue(queue, body, { persistent: true, messageId: String(j) });
      await ch.waitForConfirms();
    }
  })();
  const consume = await measure(async () => {
    const c = await conn.createChannel();
    await c.prefetch(PREFETCH);
    let n = 0;
    await new Promise((resolve) => {
      c.consume(
        queue,
        (m) => {
          n++;
          if (n % ACK_EVERY === 0 || n === N) c.ack(m, true);
          if (n === N) resolve();
        },
        { noAck: false },
      );
    });
  })();
  await ch.deleteQueue(queue);
  await conn.close();
  return { publish, consume };
}

async function rabbitmqClientRun(queue) {
  const { Connection } = await import('rabbitmq-client');
  const rabbit = new Connection(URL);
  const ch = await rabbit.acquire();
  await ch.queueDeclare({ queue, durable: true });
  await ch.confirmSelect();
  const publish = await measure(async () => {
    for (let i = 0; i < N; i += 1000) {
      const sends = [];
      for (let j = i; j < Math.min(N, i + 1000); j++) sends.push(ch.basicPublish({ routingKey: queue, durable: true, messageId: String(j) }, body));
      await Promise.all(sends);
    }
  })();
  const consume = await measure(async () => {
    const c = await rabbit.acquire();
    await c.basicQos({ prefetchCount: PREFETCH });
    let n = 0;
    await new Promise((resolve) => {
      c.basicConsume({ queue, noAck: false }, (m) => {
        n++;
        if (n % ACK_EVERY === 0 || n === N) c.basicAck({ deliveryTag: m.deliveryTag, multiple: true });
        if (n === N) resolve();
      });
    });
    await c.close();
  })();
  await ch.queueDelete({ queue });
  await ch.close();
  await rabbit.close();
  return { publish, consume };
}

if (process.argv[2] === '--child') {
  const [client, queue] = process.argv.slice(3);
  const result = await (client === 'amqplib' ? amqplibRun(queue) : rabbitmqClientRun(queue));
  process.send({ ...result, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) });
  process.exit(0);
} else {
  const results = {};
  for (const client of ['amqplib', 'rabbitmq-client']) {
    results[client] = await new Promise((resolve, reject) => {
      const child = fork(import.meta.filename, ['--child', client, `eval-${client}-${Date.now().toString(36)}`], {
        env: { ...process.env, BENCH_N: String(N), BENCH_PREFETCH: String(PREFETCH) },
        execArgv: [],
      });
      child.on('message', resolve);
      child.on('exit', (code) => code !== 0 && reject(new Error(`${client} exited ${code}`)));
    });
    process.stderr.write(`${client}: ${JSON.stringify(results[client])}\n`);
  }
  console.log(JSON.stringify({ messages: N, prefetch: PREFETCH, ackEvery: ACK_EVERY, results }, null, 2));
}
