import { definePlugin, type Integration, type IntegrationContext } from '@tbi/plugin-api';
import { configJsonSchema, kafkaConfigSchema, type KafkaConfig } from './config.js';
import { clientConnectionOptions } from './driver/client-options.js';
import { platformaticDriver } from './driver/platformatic.js';
import type { KafkaDriver, ProducerDriver } from './driver/types.js';
import { kafkaReplay } from './replay.js';
import { KafkaSink } from './sink.js';
import { KafkaSource } from './source.js';

/**
 * Creates one `kafka` integration instance on a given driver (tests pass their own; the plugin
 * uses @platformatic/kafka). The producer is made on first use, shared by downlinks and the
 * dead-letter topic.
 */
export function createKafkaIntegration(ctx: IntegrationContext<KafkaConfig>, driver: KafkaDriver): Integration {
  const { config, logger } = ctx;
  let producer: ProducerDriver | undefined;
  const getProducer = () =>
    (producer ??= driver.producer({
      acks: config.downlink.acks,
      idempotent: config.downlink.idempotent,
      compression: config.downlink.compression,
      // Like the consumer: a topic that does not exist is made only with `autoCreateTopics`.
      autoCreateTopics: config.uplink?.autoCreateTopics ?? false,
    }));
  const source = config.uplink === undefined ? undefined : new KafkaSource(ctx, config.uplink, driver, getProducer);
  const sink = new KafkaSink(config.downlink, getProducer, logger);
  let state: 'starting' | 'running' | 'stopped' = 'starting';

  return {
    async start() {
      await source?.start();
      state = 'running';
      logger.info(
        {
          bootstrapServers: config.bootstrapServers,
          securityProtocol: config.securityProtocol,
          uplink: source !== undefined,
          downlinkTopic: config.downlink.topic,
        },
        'kafka integration started',
      );
    },
    async stop() {
      state = 'stopped';
      await source?.stop();
      await sink.close();
      await producer?.close();
      await driver.close();
    },
    health() {
      if (state !== 'running') return { status: state === 'starting' ? 'starting' : 'stopped' };
      return source?.health() ?? { status: 'up', detail: 'producer only' };
    },
    pause: () => source?.pause(),
    resume: () => source?.resume(),
    send: (downlink) => sink.send(downlink),
    ...(source === undefined ? {} : { replay: kafkaReplay(ctx, driver) }),
  };
}

/**
 * The `kafka` connector: consumes topics in a consumer group and commits offsets only for records
 * the platform stored; produces downlinks with an idempotent producer.
 */
const kafkaPlugin = definePlugin<KafkaConfig>({
  type: 'kafka',
  configSchema: kafkaConfigSchema,
  configJsonSchema,
  downlink: 'push',
  create: async (ctx) => createKafkaIntegration(ctx, platformaticDriver(await clientConnectionOptions(ctx.config, ctx.configDir))),
});

export default kafkaPlugin;
