export { default, createKafkaIntegration } from './plugin.js';
export {
  configJsonSchema,
  kafkaConfigSchema,
  type DownlinkConfig,
  type KafkaConfig,
  type KafkaConfigInput,
  type UplinkConfig,
} from './config.js';
export { OffsetTracker, partitionKey, type CommitPoint, type Segment, type TopicPartition } from './offset-tracker.js';
export { platformaticDriver } from './driver/platformatic.js';
export { clientConnectionOptions, type ClientConnectionOptions } from './driver/client-options.js';
export type * from './driver/types.js';
export { toRawMessage, recordSourceId } from './record-message.js';
export { deadLetterRecord, DLQ_HEADERS } from './dead-letter.js';
export { downlinkRecord } from './downlink-record.js';
export { kafkaReplay } from './replay.js';
