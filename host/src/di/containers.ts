import 'reflect-metadata';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import {
  TOKENS,
  type Clock,
  type ConverterSandbox,
  type HttpRouter,
  type IntegrationConfigValue,
  type IntegrationContext,
  type Logger,
  type Metrics,
  type PendingDownlinks,
  type PlatformClient,
  type UplinkService,
} from '@tbi/plugin-api';
import { scopedMetrics } from '../metrics/prom-metrics.js';

/** The host-wide services of the root container. */
export interface RootServices {
  sandbox: ConverterSandbox;
  platform: PlatformClient;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  hostConfig: unknown;
}

// Every registration names its token and gives a value or factory: tsyringe never needs
// decorator metadata (which vitest's esbuild does not emit).

/** Makes the host's root container (a child of tsyringe's global one, so hosts never share). */
export function createRootContainer(services: RootServices): DependencyContainer {
  const root = globalContainer.createChildContainer();
  root.register(TOKENS.ConverterSandbox, { useValue: services.sandbox });
  root.register(TOKENS.PlatformClient, { useValue: services.platform });
  root.register(TOKENS.Logger, { useValue: services.logger });
  root.register(TOKENS.Metrics, { useValue: services.metrics });
  root.register(TOKENS.Clock, { useValue: services.clock });
  root.register(TOKENS.HostConfig, { useValue: services.hostConfig });
  return root;
}

/** What an integration instance has of its own. */
export interface IntegrationServices {
  value: IntegrationConfigValue;
  /** Already a child of the host logger with the integration's name. */
  logger: Logger;
  router: HttpRouter;
  uplink: UplinkService;
  downlinks: PendingDownlinks;
}

/**
 * Makes an integration's child container: its config, logger, metrics with its `integration`
 * label, router, uplink and pending downlinks; everything else resolves from the root.
 */
export function createIntegrationContainer(root: DependencyContainer, services: IntegrationServices): DependencyContainer {
  const child = root.createChildContainer();
  child.register(TOKENS.IntegrationConfig, { useValue: services.value });
  child.register(TOKENS.Logger, { useValue: services.logger });
  child.register(TOKENS.Metrics, { useValue: scopedMetrics(root.resolve<Metrics>(TOKENS.Metrics), services.value.name) });
  child.register(TOKENS.HttpRouter, { useValue: services.router });
  child.register(TOKENS.Uplink, { useValue: services.uplink });
  child.register(TOKENS.PendingDownlinks, { useValue: services.downlinks });
  return child;
}

/** Builds the context a plugin's `create` receives, from an integration's child container. */
export function resolveIntegrationContext(
  child: DependencyContainer,
  extra: { dataDir: string; configDir: string; signal: AbortSignal },
): IntegrationContext {
  const config = child.resolve<IntegrationConfigValue>(TOKENS.IntegrationConfig);
  return {
    name: config.name,
    type: config.type,
    config: config.config,
    metadata: config.metadata,
    logger: child.resolve<Logger>(TOKENS.Logger),
    metrics: child.resolve<Metrics>(TOKENS.Metrics),
    clock: child.resolve<Clock>(TOKENS.Clock),
    http: child.resolve<HttpRouter>(TOKENS.HttpRouter),
    uplink: child.resolve<UplinkService>(TOKENS.Uplink),
    downlinks: child.resolve<PendingDownlinks>(TOKENS.PendingDownlinks),
    sandbox: child.resolve<ConverterSandbox>(TOKENS.ConverterSandbox),
    platform: child.resolve<PlatformClient>(TOKENS.PlatformClient),
    dataDir: extra.dataDir,
    configDir: extra.configDir,
    signal: extra.signal,
  };
}
