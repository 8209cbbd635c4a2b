// The plugin kit's conformance suite against the real Mosquitto: the shared instance for every
// case, and a private instance (its own name and ports) for the outage, so stopping it never
// disturbs other test files.
import { runConformanceSuite } from '@tbi/plugin-testkit/conformance';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll } from 'vitest';
import plugin from '../src/plugin.js';
import { mosquittoPorts } from '../../../scripts/ports.mjs';
import { broker, SHARED_PORTS, testClient } from './broker.js';

const SHARED_PLAIN_PORT = SHARED_PORTS.plain;
const OUTAGE_BROKER = { instance: 'kit', ports: mosquittoPorts('TBI_MQTT_CONFORMANCE_PORT_BASE') };

const outageBroker = broker(OUTAGE_BROKER.instance, OUTAGE_BROKER.ports);
const clients: MqttClient[] = [];
const client = async (port: number) => {
  const c = await testClient({ port, reconnectPeriod: 500 });
  clients.push(c);
  return c;
};
let shared: MqttClient;
let outage: MqttClient;

beforeAll(async () => {
  await outageBroker.start();
  shared = await client(SHARED_PLAIN_PORT);
  outage = await client(OUTAGE_BROKER.ports.plain);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await outageBroker.stop();
});

/** Cases whose name starts with "outage" talk to the private broker. */
const portOf = (run: string) => (run.startsWith('outage') ? OUTAGE_BROKER.ports.plain : SHARED_PLAIN_PORT);

runConformanceSuite({
  plugin,
  redelivers: true,
  // Once paused the source holds what arrives; what was already gathered into the micro-batch
  // (at most `batch.maxMessages`, twice when one flush was under way) still goes in.
  pause: { overshoot: 10 },
  config: (run) => ({
    host: '127.0.0.1',
    port: portOf(run),
    cleanSession: false,
    protocolVersion: '3.1.1',
    topicFilters: [{ filter: `tbi-conf/${run}/#`, qos: 1 }],
    reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
    stopGraceMs: 500,
    batch: { maxMessages: 5, lingerMs: 5 },
  }),
  async produce(_kit, payloads, run) {
    const publisher = portOf(run) === SHARED_PLAIN_PORT ? shared : outage;
    await Promise.all(payloads.map((p) => publisher.publishAsync(`tbi-conf/${run}/up`, p, { qos: 1 })));
  },
  downlink: {
    metadata: (run) => ({ topic: `tbi-conf/${run}/down` }),
    async listen(run) {
      const subscriber = await client(SHARED_PLAIN_PORT);
      const received: string[] = [];
      subscriber.on('message', (_topic, payload) => received.push(payload.toString()));
      await subscriber.subscribeAsync(`tbi-conf/${run}/down`, { qos: 1 });
      return { received: () => received, close: () => subscriber.endAsync(true) };
    },
  },
  outage: { stop: () => outageBroker.stop(), start: () => outageBroker.start() },
});
