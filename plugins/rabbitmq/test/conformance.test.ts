// The plugin kit's conformance suite against the real RabbitMQ: the shared node of
// scripts/brokers/rabbitmq.sh for every case, and a private node (its own name and ports) for the
// outage, so stopping it never disturbs other test files.
import { runConformanceSuite } from '@tbi/plugin-testkit/conformance';
import { afterAll, beforeAll } from 'vitest';
import plugin from '../src/plugin.js';
import { rabbitmqPorts } from '../../../scripts/ports.mjs';
import { AMQP_PORT, brokerScript, publish, withChannel } from './harness.js';

const SHARED_AMQP_PORT = AMQP_PORT;
const OUTAGE_BROKER = rabbitmqPorts('TBI_RABBITMQ_CONFORMANCE_PORT_BASE', 'conf').env;

const urlOf = (port: number | string) => `amqp://tbi:tbi-secret@127.0.0.1:${port}`;
/** Cases whose name starts with "outage" talk to the private node. */
const portOf = (run: string) => (run.startsWith('outage') ? Number(OUTAGE_BROKER.RABBITMQ_PORT) : SHARED_AMQP_PORT);
const queueOf = (run: string) => `tbi-conf-${run}`;

beforeAll(async () => {
  await Promise.all([brokerScript('start'), brokerScript('start', OUTAGE_BROKER)]);
}, 240_000);
afterAll(async () => {
  await brokerScript('stop', OUTAGE_BROKER);
}, 120_000);

runConformanceSuite({
  plugin,
  redelivers: true,
  // Once paused the source submits no further batch: the one that filled the pipeline (at most
  // `maxBatch`, 5) is all that goes beyond `maxInFlight`; the rest of the prefetch waits unsubmitted.
  pause: { overshoot: 10 },
  config: (run) => ({
    host: '127.0.0.1',
    port: portOf(run),
    username: 'tbi',
    password: 'tbi-secret',
    reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
    // ThingsBoard's two fields: the queue is bound to amq.direct with its own name.
    exchangeName: 'amq.direct',
    routingKey: queueOf(run),
    uplink: { queues: [queueOf(run)], prefetch: 50, maxBatch: 5 },
    // Durable, so it outlives the broker restart; it expires once unused for 10 minutes.
    topology: { queues: [{ name: queueOf(run), arguments: { 'x-expires': 600_000 } }] },
  }),
  async produce(_kit, payloads, run) {
    await publish(
      'amq.direct',
      queueOf(run),
      payloads.map((body, n) => ({ body, messageId: `${run}-${n}` })),
      urlOf(portOf(run)),
    );
  },
  downlink: {
    metadata: (run) => ({ routingKey: `${queueOf(run)}-down` }),
    async listen(run) {
      const queue = `${queueOf(run)}-down`;
      const received: string[] = [];
      let close = async () => {};
      await new Promise<void>((ready, failed) => {
        void withChannel(async (ch) => {
          await ch.assertQueue(queue, { durable: false, autoDelete: true });
          await ch.consume(queue, (m) => m && received.push(m.content.toString()), { noAck: true });
          const done = new Promise<void>((resolve) => (close = async () => resolve()));
          ready();
          await done;
        }).catch(failed);
      });
      return { received: () => received, close: () => close() };
    },
  },
  outage: { stop: () => brokerScript('stop', OUTAGE_BROKER), start: () => brokerScript('start', OUTAGE_BROKER) },
  stopWithinMs: 10_000,
  timeoutMs: 90_000,
});
