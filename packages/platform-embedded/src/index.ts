export { EmbeddedPlatform } from './embedded-platform.js';
export { openEmbeddedPlatform } from './open-platform.js';
export { createPlatformRoutes } from './routes.js';
export { PlatformError, type PlatformErrorCode } from './errors.js';
export { DATABASE_FILE } from './open-database.js';
export { SCHEMA_VERSION } from './schema.js';
export { RecordLog, type RecordLogOptions } from './record-log.js';
export type {
  AggregatedPoint,
  Aggregation,
  Attribute,
  AttributeScope,
  CommandRecord,
  CommandStatus,
  Device,
  DevicePage,
  EmbeddedPlatformOptions,
  ListDevicesQuery,
  RetentionResult,
  RpcRequest,
  RpcResult,
  TelemetryPoint,
  TelemetryQuery,
} from './types.js';
