// The plugin kit's conformance suite: the same cases every tbi connector passes.
import { runConformanceSuite } from '@tbi/plugin-testkit/conformance';
import plugin from '../src/plugin.js';
import { connect, portOf, type LineClient } from './line-client.js';

/** One device connection per case. */
const devices = new Map<string, LineClient>();

runConformanceSuite({
  plugin,
  config: () => ({ port: 0 }),
  // A client that got no `ok` sends the line again itself; the server has nothing to redeliver.
  redelivers: false,
  // Paused, the source stops taking lines off its connections: only lines already submitted count.
  pause: { overshoot: 0 },
  async produce(kit, payloads, run) {
    let client = devices.get(run);
    if (client === undefined) {
      client = await connect(await portOf(kit));
      devices.set(run, client);
    }
    client.send(payloads);
  },
  acknowledged: (run) => devices.get(run)?.received.filter((l) => l === 'ok').length ?? 0,
  downlink: {
    metadata: () => ({}),
    async listen(run, kit) {
      // The device must have spoken once, so the integration knows its connection.
      const client = await connect(await portOf(kit));
      client.send([JSON.stringify({ device: `dev-${run}`, values: { hello: 1 } })]);
      await kit.waitFor(() => client.received.includes('ok'), 'the device is known');
      return { received: () => client.received.filter((l) => l !== 'ok'), close: () => client.close() };
    },
  },
});
