// The plugin kit's conformance suite against the real Kafka: the shared broker for every case,
// and a private instance (its own name and ports) for the outage, so stopping it never disturbs
// other test files.
import { Consumer } from '@platformatic/kafka';
import { runConformanceSuite } from '@tbi/plugin-testkit/conformance';
import { afterAll, beforeAll } from 'vitest';
import plugin from '../src/plugin.js';
import { brokerScript, createTopic, ensureBroker, testProducer } from './harness.js';

// Ports in one place, so they are easy to move to the shared test-ports module.
const SHARED_BROKER = '127.0.0.1:19092';
const OUTAGE_ENV = { KAFKA_INSTANCE: 'kit', KAFKA_PORT_BASE: '36092' };
const OUTAGE_BROKER = '127.0.0.1:36092';

/** Cases whose name starts with "outage" talk to the private broker. */
const brokerOf = (run: string) => (run.startsWith('outage') ? OUTAGE_BROKER : SHARED_BROKER);
const shared = testProducer([SHARED_BROKER]);

beforeAll(async () => {
  await ensureBroker();
  await brokerScript('start', OUTAGE_ENV);
});
afterAll(async () => {
  await shared.close();
  await brokerScript('stop', OUTAGE_ENV);
});

runConformanceSuite({
  plugin,
  redelivers: true,
  // The consumer itself stops fetching beyond `maxInFlightBatches` × `maxPollRecords` (4 × 5).
  pause: { overshoot: 20 },
  config: (run) => ({
    bootstrapServers: brokerOf(run),
    uplink: {
      topics: [`conf-${run}`],
      groupId: `conf-${run}`,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      maxPollRecords: 5,
      fetchMaxWaitMs: 100,
      commitIntervalMs: 0,
    },
    downlink: { topic: `conf-${run}-down`, lingerMs: 0 },
  }),
  async setup(run) {
    await createTopic(`conf-${run}`, 1, [brokerOf(run)]);
    await createTopic(`conf-${run}-down`, 1, [brokerOf(run)]);
  },
  async produce(_kit, payloads, run) {
    const records = payloads.map((value) => ({ value }));
    if (brokerOf(run) === SHARED_BROKER) return shared.send(`conf-${run}`, records);
    // A producer of its own each time: one that lived through the outage may still be reconnecting.
    const producer = testProducer([OUTAGE_BROKER], 60);
    try {
      await producer.send(`conf-${run}`, records);
    } finally {
      await producer.close();
    }
  },
  downlink: {
    metadata: () => ({}),
    async listen(run) {
      const consumer = new Consumer({ clientId: 'conf-downlink-reader', groupId: `reader-${run}`, bootstrapBrokers: [SHARED_BROKER], autocommit: false });
      const received: string[] = [];
      const stream = await consumer.consume({ topics: [`conf-${run}-down`], mode: 'earliest', autocommit: false });
      stream.on('data', (m) => received.push(m.value?.toString() ?? ''));
      return {
        received: () => received,
        async close() {
          await stream.close();
          await consumer.close(true);
        },
      };
    },
  },
  outage: { stop: () => brokerScript('stop', OUTAGE_ENV), start: () => brokerScript('start', OUTAGE_ENV) },
  timeoutMs: 90_000,
});
