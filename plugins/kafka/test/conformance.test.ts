// The plugin kit's conformance suite against the real (shared) Kafka.
//
// Not yet the outage case: after its broker is stopped and started again (a private instance,
// TBI_KAFKA_CONFORMANCE_PORT_BASE of scripts/ports.env), the consumer stays "degraded: consumer is (re)joining
// its group" for more than 90 s — it re-creates its stream three times while the broker is down
// ("fetch failed 4 times", "metadata failed 4 times") and then never rejoins. Add
// `outage: { stop: () => brokerScript('stop', OUTAGE_ENV), start: () => brokerScript('start', OUTAGE_ENV) }`
// (and start that broker in beforeAll) once the connector recovers; the case is ready for it.
import { Consumer } from '@platformatic/kafka';
import { runConformanceSuite } from '@tbi/plugin-testkit/conformance';
import { afterAll, beforeAll } from 'vitest';
import plugin from '../src/plugin.js';
import { createTopic, ensureBroker, PLAINTEXT, testProducer } from './harness.js';

const SHARED_BROKER = PLAINTEXT;
const shared = testProducer([SHARED_BROKER]);

beforeAll(() => ensureBroker());
afterAll(() => shared.close());

runConformanceSuite({
  plugin,
  redelivers: true,
  // The consumer itself stops fetching beyond `maxInFlightBatches` × `maxPollRecords` (4 × 5).
  pause: { overshoot: 20 },
  config: (run) => ({
    bootstrapServers: SHARED_BROKER,
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
    await createTopic(`conf-${run}`, 1, [SHARED_BROKER]);
    await createTopic(`conf-${run}-down`, 1, [SHARED_BROKER]);
  },
  produce: (_kit, payloads, run) => shared.send(`conf-${run}`, payloads.map((value) => ({ value }))),
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
  timeoutMs: 90_000,
});
