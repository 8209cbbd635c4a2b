import { definePlugin, type Integration, type IntegrationContext } from '@tbi/plugin-api';
import { configJsonSchema, pulsarConfigSchema, type PulsarConfig } from './config.js';
import { nativeDriver } from './driver/native.js';
import type { PulsarDriver } from './driver/types.js';
import { websocketDriver } from './driver/websocket.js';
import { pulsarReplay } from './replay.js';
import { PulsarSink } from './sink.js';
import { PulsarSource } from './source.js';

/** The driver a config asks for. */
export function driverFor(config: PulsarConfig): PulsarDriver {
  return config.driver === 'native' ? nativeDriver(config.serviceUrl!) : websocketDriver(config.webServiceUrl!);
}

/** Creates one `pulsar` integration instance on a given driver (tests may pass their own). */
export function createPulsarIntegration(ctx: IntegrationContext<PulsarConfig>, driver: PulsarDriver): Integration {
  const source = ctx.config.uplink === undefined ? undefined : new PulsarSource(ctx, ctx.config.uplink, driver);
  const sink = new PulsarSink(ctx, driver);
  let stopped = false;
  return {
    async start() {
      await source?.start();
      ctx.logger.info({ driver: driver.name, topics: ctx.config.uplink?.topics ?? [] }, 'pulsar integration started');
    },
    async stop() {
      stopped = true;
      await source?.stop();
      await sink.close();
    },
    health() {
      if (stopped) return { status: 'stopped' };
      if (source) return source.health();
      return { status: 'up', detail: `producing through the ${driver.name} driver` };
    },
    pause: () => source?.pause(),
    resume: () => source?.resume(),
    send: (downlink) => sink.send(downlink),
    replay: pulsarReplay(ctx, driver),
  };
}

/**
 * The `pulsar` connector: consumes topics on a subscription, acknowledging each message only
 * after the platform stored it, produces acknowledged downlinks, and replays a topic's history
 * with a reader of its own.
 */
const pulsarPlugin = definePlugin<PulsarConfig>({
  type: 'pulsar',
  configSchema: pulsarConfigSchema,
  configJsonSchema,
  downlink: 'push',
  create: (ctx) => createPulsarIntegration(ctx, driverFor(ctx.config)),
});

export default pulsarPlugin;
