import type { BackoffOptions } from './backoff.js';
import type { OutboundDownlink } from './downlink.js';
import type { Metadata } from './messages.js';
import type { Clock, ConverterSandbox, HttpRouter, Logger, Metrics, PendingDownlinks, UplinkService } from './services.js';
import type { PlatformView } from './platform-view.js';
import type { ReplaySource } from './replay.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import { PLUGIN_API_VERSION } from './version.js';

/** How an integration is doing, for `/readyz` and `tbi` status. */
export interface IntegrationHealth {
  status: 'starting' | 'up' | 'degraded' | 'down' | 'stopped';
  /** One sentence for humans, e.g. "reconnecting to mqtt://127.0.0.1:1883 (attempt 4)". */
  detail?: string;
}

/** A running connector instance, made by `PluginDefinition.create`. */
export interface Integration {
  /** Connects and starts taking messages. Rejecting marks this integration failed; others run on. */
  start(): Promise<void>;
  /** Stops taking messages, releases what is in flight unacknowledged, and closes connections. */
  stop(): Promise<void>;
  health(): IntegrationHealth;
  /** Back-pressure: stop reading from the source until `resume` (the pipeline is full). */
  pause?(): void;
  resume?(): void;
  /**
   * Sends a downlink (plugins with `downlink: 'push'`), once: the host retries an error that
   * `isRetryable`, per `downlinkRetry`. Rejects with `DeliveryError` on failure.
   */
  send?(downlink: OutboundDownlink): Promise<void>;
  /**
   * How the host retries a failed `send` of this instance (since 1.2). A connector whose settings
   * hold a retry budget (HTTP's `downlink.retries`) states it here instead of retrying inside
   * `send`, so retries are not multiplied. Default: the host's (3 attempts, 0.5 s doubling up to 5 s).
   */
  downlinkRetry?: DownlinkRetry;
  /**
   * How this instance takes downlinks, where its settings decide it (since 1.2): HTTP answers the
   * device's next uplink (`pull`, from `ctx.downlinks`) or calls a downlink URL (`push`).
   * Default: the plugin's `downlink`.
   */
  downlinkMode?: 'push' | 'pull' | 'none';
  /** Pull mode: downlinks kept per device in the host's queue, newer ones pushing the oldest out (default the host's, 10). Since 1.2. */
  downlinkPendingPerDevice?: number;
  /**
   * Reads the source's history again for `tbi replay` (since 1.3): Kafka by partition offsets or
   * record time, Pulsar by message id or publish time, RabbitMQ streams by `x-stream-offset`.
   * Leave it out when the source keeps no history (MQTT, HTTP).
   */
  replay?: ReplaySource;
}

/** How the host retries `Integration.send`: attempts in all (the first included) and the backoff between them. */
export interface DownlinkRetry extends BackoffOptions {
  attempts?: number;
}

/** Everything an integration instance receives from the host. Plugins never see the container. */
export interface IntegrationContext<Config = unknown> {
  /** The instance name from the config, unique in the host. */
  name: string;
  type: string;
  /** The integration's `config` block, validated by the plugin's schema (secrets interpolated). */
  config: Config;
  /** The integration's own key/values (ThingsBoard "metadata"), given to converters. */
  metadata: Metadata;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  /** Routes under `/api/v1/integrations/<type>`; answer 503 until `start` resolves. */
  http: HttpRouter;
  uplink: UplinkService;
  downlinks: PendingDownlinks;
  /** Compiles converters for the plugin's own use (testing, conversions); disposed when the integration stops. */
  sandbox: ConverterSandbox;
  /**
   * Reads and command subscription. Since 1.2 a `PlatformView`: it has no `ingest`, because data
   * reaches the platform only through `uplink.submit` (no plugin used `ingest` before).
   */
  platform: PlatformView;
  /** A directory of this integration's own for local state. */
  dataDir: string;
  /** The directory of the host's config file: resolve relative paths in `config` against it. Since 1.1. */
  configDir: string;
  /** Aborted when the integration stops. */
  signal: AbortSignal;
}

/** A connector plugin: what its entry module exports by default. Made with `definePlugin`. */
export interface PluginDefinition<Config = unknown> {
  readonly $$type: '@tbi/plugin';
  /** The `PLUGIN_API_VERSION` the plugin was compiled against. */
  readonly apiVersion: string;
  readonly type: string;
  /** Validates the integration's `config` block; the host reports its issues with file and path. */
  readonly configSchema: StandardSchemaV1<unknown, Config>;
  /** The same schema as JSON Schema, for `tbi schema` and editors. */
  readonly configJsonSchema?: Record<string, unknown>;
  /**
   * `push`: the host calls `Integration.send`; `pull`: the connector uses `ctx.downlinks`; `none`.
   * The default of every instance, which may choose otherwise (`Integration.downlinkMode`).
   */
  readonly downlink: 'push' | 'pull' | 'none';
  /**
   * Resources this instance claims, given its validated config: two integrations of this type
   * may not claim the same one (an HTTP routing key, an MQTT client id on one broker). The host
   * refuses such a config at validation, naming both. Optional; additive in 1.x.
   *
   * @example exclusiveKeys: (config) => (config.routingKey ? [{ key: config.routingKey, path: ['routingKey'] }] : [])
   */
  exclusiveKeys?(config: Config): ReadonlyArray<string | ExclusiveKey>;
  create(ctx: IntegrationContext<Config>): Integration | Promise<Integration>;
}

/** A resource an integration claims (see `PluginDefinition.exclusiveKeys`) and where its config names it. */
export interface ExclusiveKey {
  /** The resource, compared as is: build it from everything that makes it one (broker URL + client id). */
  key: string;
  /** Path in the integration's `config` block to point at, e.g. `['routingKey']`. */
  path?: ReadonlyArray<string | number>;
  /** How to name the resource to a user, e.g. `routing key "abc"`; default the key. */
  label?: string;
}

/** Input of `definePlugin`. */
export type PluginOptions<Config> = Omit<PluginDefinition<Config>, '$$type' | 'apiVersion'>;

/**
 * Declares a connector plugin.
 *
 * @example
 * export default definePlugin({
 *   type: 'echo',
 *   configSchema: z.object({ greeting: z.string().default('hi') }),
 *   downlink: 'none',
 *   create: (ctx) => ({ start: async () => {}, stop: async () => {}, health: () => ({ status: 'up' }) }),
 * });
 */
export function definePlugin<Config>(options: PluginOptions<Config>): PluginDefinition<Config> {
  return Object.freeze({ ...options, $$type: '@tbi/plugin', apiVersion: PLUGIN_API_VERSION });
}

/** Checks by value (not `instanceof`) that a module export is a plugin definition. */
export function isPluginDefinition(value: unknown): value is PluginDefinition {
  const v = value as Partial<PluginDefinition> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.$$type === '@tbi/plugin' &&
    typeof v.apiVersion === 'string' &&
    typeof v.type === 'string' &&
    typeof v.create === 'function' &&
    typeof v.configSchema?.['~standard']?.validate === 'function' &&
    (v.exclusiveKeys === undefined || typeof v.exclusiveKeys === 'function')
  );
}
