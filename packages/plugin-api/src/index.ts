export { PLUGIN_API_VERSION } from './version.js';
export { parseManifest, type PluginManifest } from './manifest.js';
export type { Metadata, RawMessage } from './messages.js';
export type { DeviceRecord, KeyValues, RpcReply, Scalar, TelemetrySample } from './records.js';
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
