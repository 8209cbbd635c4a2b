import { definePlugin, type Integration, type IntegrationContext } from '@tbi/plugin-api';
import { configJsonSchema, rabbitmqConfigSchema, type RabbitmqConfig } from './config.js';
import { ConnectionKeeper } from './connection-keeper.js';
import { connectionOptions } from './connection-options.js';
import { amqplibDriver } from './driver/amqplib.js';
import type { AmqpDriver } from './driver/types.js';
import { rabbitmqReplay } from './replay.js';
import { RabbitmqSink } from './sink.js';
import { RabbitmqSource } from './source.js';
import { StreamOffsets } from './stream-offsets.js';
import { declareTopology, warnUnbound } from './topology.js';

/**
 * Creates one `rabbitmq` integration instance on a given driver (tests may pass their own; the
 * plugin uses amqplib). One connection carries the topology channel, one consumer channel per
 * queue and the downlinks' confirm channel; on every (re)connect the topology is declared first.
 */
export async function createRabbitmqIntegration(ctx: IntegrationContext<RabbitmqConfig>, driver: AmqpDriver): Promise<Integration> {
  const { config, logger } = ctx;
  const options = await connectionOptions(config, ctx.configDir);
  const keeper = new ConnectionKeeper(options, driver, logger, ctx.name, config.reconnect, {
    reconnects: ctx.metrics.counter('tbi_rabbitmq_reconnects_total', 'Reconnection attempts to RabbitMQ'),
    connected: ctx.metrics.gauge('tbi_rabbitmq_connected', '1 while connected to RabbitMQ and consuming'),
  });
  keeper.onConnected(async (connection) => {
    const channel = await connection.channel();
    try {
      await declareTopology(channel, config);
    } finally {
      await channel.close();
    }
  });
  const source = config.uplink === undefined ? undefined : new RabbitmqSource(ctx, config.uplink, keeper, new StreamOffsets(ctx.dataDir));
  const sink = new RabbitmqSink(config.downlink, keeper, logger);
  let stopped = false;

  return {
    async start() {
      warnUnbound(config, logger);
      await keeper.start();
      logger.info({ broker: keeper.broker, queues: config.uplink?.queues ?? [], connected: keeper.state === 'up' }, 'rabbitmq integration started');
    },
    async stop() {
      stopped = true;
      await source?.stop();
      await sink.close();
      await keeper.stop();
    },
    health() {
      if (stopped) return { status: 'stopped' };
      if (source !== undefined) return source.health();
      if (keeper.state === 'up') return { status: 'up', detail: `publishing to ${keeper.broker}` };
      return { status: 'degraded', detail: `reconnecting to ${keeper.broker}: ${keeper.lastError?.message ?? 'connecting'}` };
    },
    pause: () => source?.pause(),
    resume: () => source?.resume(),
    send: (downlink) => sink.send(downlink),
    replay: rabbitmqReplay(ctx, driver, options),
  };
}

/**
 * The `rabbitmq` connector: consumes queues with manual acks sent only for messages the platform
 * stored, dead-letters failed conversions to the queue's DLX, and publishes confirmed downlinks.
 */
const rabbitmqPlugin = definePlugin<RabbitmqConfig>({
  type: 'rabbitmq',
  configSchema: rabbitmqConfigSchema,
  configJsonSchema,
  downlink: 'push',
  create: (ctx) => createRabbitmqIntegration(ctx, amqplibDriver()),
});

export default rabbitmqPlugin;
