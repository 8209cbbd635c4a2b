import type { HttpRouter } from './services.js';
import type { Clock, ConverterSandbox, Logger, Metrics, PendingDownlinks, PlatformClient, UplinkService } from './services.js';
import type { Metadata } from './messages.js';
import type { PlatformView } from './platform-view.js';

/**
 * A DI token that remembers the type it stands for. It is a registered symbol
 * (`Symbol.for`), so two copies of this package agree on every token.
 */
export type ServiceToken<T> = symbol & { readonly __service?: T };

function token<T>(name: string): ServiceToken<T> {
  return Symbol.for(`@tbi/plugin-api:${name}`) as ServiceToken<T>;
}

/** The configuration of one integration instance, as the host hands it to the plugin. */
export interface IntegrationConfigValue {
  name: string;
  type: string;
  config: unknown;
  metadata: Metadata;
}

/**
 * Tokens of the services the host registers in its tsyringe container. Host-wide services live
 * in the root container; per-integration ones (logger, config, HTTP router, uplink) in each
 * integration's child container.
 */
export const TOKENS = {
  ConverterSandbox: token<ConverterSandbox>('ConverterSandbox'),
  PlatformClient: token<PlatformClient>('PlatformClient'),
  Logger: token<Logger>('Logger'),
  Metrics: token<Metrics>('Metrics'),
  Clock: token<Clock>('Clock'),
  /**
   * @deprecated since 1.2: the host no longer registers it (nothing resolved it). A plugin gets
   * its own configuration as `ctx.config`.
   */
  HostConfig: token<unknown>('HostConfig'),
  /** Per integration: its own configuration. */
  IntegrationConfig: token<IntegrationConfigValue>('IntegrationConfig'),
  /** Per integration: routes under its type's prefix. */
  HttpRouter: token<HttpRouter>('HttpRouter'),
  /** Per integration: the uplink pipeline. */
  Uplink: token<UplinkService>('Uplink'),
  /** Per integration: reads and command subscription, no writes (`ctx.platform`). Since 1.2. */
  PlatformView: token<PlatformView>('PlatformView'),
  /** Per integration: downlinks waiting for a device (pull mode). */
  PendingDownlinks: token<PendingDownlinks>('PendingDownlinks'),
} as const;
