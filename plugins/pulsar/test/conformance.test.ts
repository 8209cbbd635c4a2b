// The plugin kit's conformance suite against the real Pulsar standalone (WebSocket driver): the
// shared instance for every case, a private one (its own name and ports) for the outage, so
// stopping it never disturbs other test files.
import { runConformanceSuite } from '@tbi/plugin-testkit/conformance';
import { afterAll, beforeAll } from 'vitest';
import plugin from '../src/plugin.js';
import { instance, listen, produce, SHARED, topicOf } from './harness.js';

const shared = instance();
const outage = instance('TBI_PULSAR_CONFORMANCE_PORT_BASE', 'kit');
const listeners: { close(): void }[] = [];

beforeAll(async () => {
  await Promise.all([shared.start(), outage.start()]);
}, 300_000);
afterAll(async () => {
  for (const l of listeners) l.close();
  await outage.stop();
}, 120_000);

/** Cases whose name starts with "outage" talk to the private instance. */
const urlOf = (run: string) => (run.startsWith('outage') ? outage.webServiceUrl : SHARED.webServiceUrl);

runConformanceSuite({
  plugin,
  redelivers: true,
  // Once paused the source holds what arrives; a batch already gathered (batch.maxMessages) still goes in.
  pause: { overshoot: 10 },
  config: (run) => ({
    webServiceUrl: urlOf(run),
    reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
    uplink: {
      topics: [topicOf(`conf-${run}`)],
      subscriptionName: 'tbi-conformance',
      subscriptionType: 'Shared',
      initialPosition: 'Earliest',
      batch: { maxMessages: 5, timeoutMs: 5 },
      // The rejected case reaches the host's dead letters after one negative ack.
      maxRedeliverCount: 1,
      negativeAckRedeliveryDelayMs: 200,
    },
  }),
  produce: (_kit, payloads, run) => produce(topicOf(`conf-${run}`), payloads, { webServiceUrl: urlOf(run) }),
  downlink: {
    metadata: (run) => ({ topic: topicOf(`conf-${run}-down`) }),
    async listen(run) {
      const l = await listen(topicOf(`conf-${run}-down`), 'tbi-conformance-listener');
      listeners.push(l);
      return { received: () => l.received.map((m) => m.payload), close: async () => l.close() };
    },
  },
  outage: { stop: () => outage.stop(), start: () => outage.start() },
  timeoutMs: 90_000,
});
