import 'reflect-metadata';

export { startHost, loadHostConfig, type HostHandle, type StartHostOptions, type LogLevel } from './host.js';
export { loadConfig, resolveConfig, type LoadedConfig, type ConfigOptions } from './config/load-config.js';
export { hostConfigSchema, integrationSchema, type HostConfig, type IntegrationEntry } from './config/config-schema.js';
export { InvalidConfigError } from './config/config-problems.js';
export { buildJsonSchema } from './config/json-schema.js';
export { createRedactor, REDACTED } from './config/redact.js';
export { discoverPlugins, type DiscoveredPlugin, type Discovery, type DiscoverOptions } from './plugins/discover-plugins.js';
export { checkCompatibility, type Compatibility } from './plugins/check-compatibility.js';
export { selectPlugins, PluginProblemsError, packageForType } from './plugins/select-plugins.js';
export { loadPlugin, type LoadedPlugin } from './plugins/load-plugin.js';
export { listPlugins, type PluginList, type PluginListing } from './plugins/plugin-listing.js';
export { prepareHost, type PreparedHost } from './lifecycle/prepare-host.js';
export type { InstanceStatus, InstanceState } from './lifecycle/integration-instance.js';
export type { Readiness } from './lifecycle/supervisor.js';
export { DEFAULT_RESTART_POLICY, type RestartPolicy } from './lifecycle/restart-schedule.js';
export { PromMetrics, scopedMetrics } from './metrics/prom-metrics.js';
export { createLogger, type LoggerOptions } from './logging/create-logger.js';
export { PLUGIN_PREFIX } from './http/plugin-router.js';
export { main, createProgram, type CliIo } from './cli/main.js';
export { hostVersion } from './host-version.js';
export {
  openPipeline,
  type Pipeline,
  type PipelineDeps,
  type AttachOptions,
  type ChannelStatus,
  type IntegrationChannel,
} from './pipeline/index.js';
// The pieces `@tbi/plugin-testkit` runs a plugin with, in process, exactly as the host does.
export { IntegrationInstance, type InstanceDeps } from './lifecycle/integration-instance.js';
export { createRootContainer, type RootServices } from './di/containers.js';
export { loadSource } from './lifecycle/open-services.js';
export { REMOTE_ADDRESS_ENV } from './http/plugin-router.js';
