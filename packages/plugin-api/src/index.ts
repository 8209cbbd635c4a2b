export { PLUGIN_API_VERSION } from './version.js';
export { parseManifest, type PluginManifest } from './manifest.js';
export type { Metadata, RawMessage } from './messages.js';
export type { DeviceRecord, KeyValues, RpcReply, Scalar, TelemetrySample } from './records.js';
export type { ReplayBatch, ReplayPoint, ReplayRequest, ReplaySource } from './replay.js';
export type { DownlinkMsgType, DownlinkRequest, EncodedDownlink, OutboundDownlink } from './downlink.js';
export type * from './services.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export {
  definePlugin,
  isPluginDefinition,
  type Integration,
  type IntegrationContext,
  type IntegrationHealth,
  type PluginDefinition,
  type DownlinkRetry,
  type ExclusiveKey,
  type PluginOptions,
} from './plugin.js';
export { TOKENS, type IntegrationConfigValue, type ServiceToken } from './tokens.js';
export {
  ConfigError,
  ConverterError,
  DeliveryError,
  isTbiError,
  PluginError,
  ShutdownError,
  TbiError,
  type ConverterFailureKind,
  type TbiErrorOptions,
} from './errors.js';
export { isRetryable, isShutdownError, markRetryable } from './error-guards.js';
export { retry, type RetryOptions } from './retry.js';
export { Backoff, backoffDelay, type BackoffOptions } from './backoff.js';
export { sleep } from './sleep.js';
export { loadPem, type PemSource } from './pem.js';
export { openReplayCheckpoint } from './replay-checkpoint.js';
export { persistentId, type PersistentIdOptions } from './persistent-id.js';
export { coerceBoolean, coerceNumber } from './config-coercion.js';
export { constantTimeEqual } from './constant-time.js';
