import 'reflect-metadata';
import { container as globalContainer, instancePerContainerCachingFactory, type DependencyContainer } from 'tsyringe';
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
  type PlatformView,
  type UplinkService,
} from '@tbi/plugin-api';
import { scopedMetrics } from '../metrics/prom-metrics.js';
import { IntegrationPlatformView } from './platform-view.js';
import { ScopedSandbox } from './scoped-sandbox.js';

/** The host-wide services of the root container, opened before any integration. */
export interface RootServices {
  sandbox: ConverterSandbox;
  platform: PlatformClient;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
}

/** Where an integration's own files are and when it stops; known once it is being started. */
export interface IntegrationRuntime {
  dataDir: string;
  configDir: string;
  /** Aborted when the integration stops: ends its platform subscriptions and converters. */
  signal: AbortSignal;
}

// Host-only tokens: plugins never see the container, so these are not part of the contract.
const RUNTIME = Symbol('tbi.host:IntegrationRuntime');
const CONTEXT = Symbol('tbi.host:IntegrationContext');

// Every registration names its token and gives a value or a factory: tsyringe never needs
// decorator metadata (which vitest's esbuild does not emit). Root services are values because
// they are opened (asynchronously) before the container exists; per-integration services are
// factories cached per child container, built from the root services they narrow.

/** Makes the host's root container (a child of tsyringe's global one, so hosts never share). */
export function createRootContainer(services: RootServices): DependencyContainer {
  const root = globalContainer.createChildContainer();
  root.register(TOKENS.ConverterSandbox, { useValue: services.sandbox });
  root.register(TOKENS.PlatformClient, { useValue: services.platform });
  root.register(TOKENS.Logger, { useValue: services.logger });
  root.register(TOKENS.Metrics, { useValue: services.metrics });
  root.register(TOKENS.Clock, { useValue: services.clock });
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

/** A factory whose result is made once per (child) container that resolves it. */
function perContainer<T>(token: symbol, make: (c: DependencyContainer) => T, target: DependencyContainer): void {
  target.register<T>(token, { useFactory: instancePerContainerCachingFactory(make) });
}

/**
 * Makes an integration's child container: its config, logger, router, uplink and pending
 * downlinks as values; metrics with its `integration` label, the platform view (reads and
 * command subscription only) and a sandbox whose converters die with the integration as
 * factories over the root services; and the plugin's whole context, made from those.
 */
export function createIntegrationContainer(root: DependencyContainer, services: IntegrationServices): DependencyContainer {
  const child = root.createChildContainer();
  child.register(TOKENS.IntegrationConfig, { useValue: services.value });
  child.register(TOKENS.Logger, { useValue: services.logger });
  child.register(TOKENS.HttpRouter, { useValue: services.router });
  child.register(TOKENS.Uplink, { useValue: services.uplink });
  child.register(TOKENS.PendingDownlinks, { useValue: services.downlinks });
  perContainer(TOKENS.Metrics, () => scopedMetrics(root.resolve<Metrics>(TOKENS.Metrics), services.value.name), child);
  perContainer(TOKENS.PlatformView, (c) => new IntegrationPlatformView(root.resolve<PlatformClient>(TOKENS.PlatformClient), runtime(c).signal), child);
  perContainer(
    TOKENS.ConverterSandbox,
    (c) => new ScopedSandbox(root.resolve<ConverterSandbox>(TOKENS.ConverterSandbox), services.value.name, runtime(c).signal, services.logger),
    child,
  );
  perContainer(CONTEXT, (c) => buildContext(c), child);
  return child;
}

function runtime(c: DependencyContainer): IntegrationRuntime {
  if (!c.isRegistered(RUNTIME)) throw new Error('the integration runtime is resolved before resolveIntegrationContext registered it');
  return c.resolve<IntegrationRuntime>(RUNTIME);
}

function buildContext(child: DependencyContainer): IntegrationContext {
  const config = child.resolve<IntegrationConfigValue>(TOKENS.IntegrationConfig);
  const { dataDir, configDir, signal } = runtime(child);
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
    platform: child.resolve<PlatformView>(TOKENS.PlatformView),
    dataDir,
    configDir,
    signal,
  };
}

/**
 * Builds the context a plugin's `create` receives, from an integration's child container. It
 * holds only what a plugin may use: the full platform client and sandbox stay in the root.
 */
export function resolveIntegrationContext(child: DependencyContainer, extra: IntegrationRuntime): IntegrationContext {
  child.register(RUNTIME, { useValue: extra });
  return child.resolve<IntegrationContext>(CONTEXT);
}
