export { default, createRabbitmqIntegration } from './plugin.js';
export {
  configJsonSchema,
  rabbitmqConfigSchema,
  type DownlinkConfig,
  type RabbitmqConfig,
  type RabbitmqConfigInput,
  type ReplayConfig,
  type TopologyConfig,
  type UplinkConfig,
} from './config.js';
export { AckTracker, type AckPlan } from './ack-tracker.js';
export { amqplibDriver } from './driver/amqplib.js';
export type * from './driver/types.js';
export { connectionOptions, describeBroker } from './connection-options.js';
export { deliveryCount, deliverySourceId, toRawMessage } from './delivery-message.js';
export { downlinkPublish, renderTemplate } from './downlink-message.js';
export { isAccessRefused, isRabbitmqConnectError, RabbitmqConnectError, type ConnectFailureKind } from './errors.js';
export { rabbitmqReplay, replayStream } from './replay.js';
export { parseCheckpoint, type ReplayCheckpoint } from './replay-range.js';
