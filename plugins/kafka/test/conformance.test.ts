// The plugin kit's conformance suite against the real Kafka: the shared broker for every case,
// and a private instance (its own name and ports) for the outage, so stopping it never disturbs
// other test files.
import { Consumer } from '@platformatic/kafka';
import { runConformanceSuite } from '@tbi/plugin-testkit/conformance';
import { afterAll, beforeAll } from 'vitest';
import plugin from '../src/plugin.js';
import { kafkaListeners } from '../../../scripts/ports.mjs';
import { brokerScript, createTopic, ensureBroker, PLAINTEXT, testProducer } from './harness.js';

const SHARED_BROKER = PLAINTEXT;
const { env: OUTAGE_ENV, plaintext: OUTAGE_BROKER } = kafkaListeners('TBI_KAFKA_CONFORMANCE_PORT_BASE', 'conformance');
const shared = testProducer([SHARED_BROKER]);
const outage = testProducer([OUTAGE_BROKER], 60);

beforeAll(async () => {
  await Promise.all([ensureBroker(), ensureBroker(OUTAGE_ENV)]);
}, 180_000);
afterAll(async () => {
  await Promise.all([shared.close(), outage.close()]);
  await brokerScript('stop', OUTAGE_ENV);
}, 60_000);

/** Cases whose name starts with "outage" talk to the private broker. */
const brokerOf = (run: string) => (run.startsWith('outage') ? OUTAGE_BROKER : SHARED_BROKER);

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
  produce: (_kit, payloads, run) =>
    (brokerOf(run) === SHARED_BROKER ? shared : outage).send(
      `conf-${run}`,
      payloads.map((value) => ({ value })),
    ),
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
