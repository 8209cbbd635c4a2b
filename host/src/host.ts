import 'reflect-metadata';
import type { Hono } from 'hono';
import type { Clock, Logger } from '@tbi/plugin-api';
import type { HostConfig } from './config/config-schema.js';
import { loadConfig, resolveConfig, type LoadedConfig } from './config/load-config.js';
import { createRootContainer } from './di/containers.js';
import { createHostApp, type HostEnv } from './http/create-app.js';
import { listen } from './http/listen.js';
import { IntegrationInstance } from './lifecycle/integration-instance.js';
import { withLaterStages } from './lifecycle/check-all-stages.js';
import { openSandbox, openServices, sourceLoaderFor } from './lifecycle/open-services.js';
import { prepareHost } from './lifecycle/prepare-host.js';
import { Supervisor } from './lifecycle/supervisor.js';
import { createLogger } from './logging/create-logger.js';
import { PromMetrics } from './metrics/prom-metrics.js';
import { integrationMetrics } from './metrics/integration-metrics.js';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from './lifecycle/restart-schedule.js';
import { listPlugins } from './plugins/plugin-listing.js';
import { converterRoutes } from './http/converter-routes.js';
import { integrationDetailRoutes } from './http/integration-detail-routes.js';
import { consoleRoutes } from '@tbi/console';
import { hostVersion } from './host-version.js';
import { ReplayJobs, ReplayStore, replayRoutes } from './replay/index.js';
import path from 'node:path';

/** A log level of `log.level`. */
export type LogLevel = HostConfig['log']['level'];

/** Options of `startHost`. Give a config file, or a config object for tests. */
export interface StartHostOptions {
  /** Path of a YAML or JSON config file. */
  configFile?: string;
  /** An already parsed config, instead of a file (relative paths start at `baseDir`). */
  config?: unknown;
  /** Base of relative paths of an in-memory `config`; default the cwd. */
  baseDir?: string;
  /** Variables for `${env:NAME}` and `TBI_TOKEN`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Overrides `http.port` / `http.host` (0 picks a free port). */
  port?: number;
  host?: string;
  /** A logger to use instead of making one from `log:`. */
  logger?: Logger;
  /** Overrides `log.level`. */
  logLevel?: LogLevel;
  /** Pretty log lines; default: when stdout is a TTY. */
  pretty?: boolean;
  clock?: Clock;
  /** When failed integrations are restarted (tests shorten it); default `DEFAULT_RESTART_POLICY`. */
  restartPolicy?: Partial<RestartPolicy>;
}

/** A running host. */
export interface HostHandle {
  /** Base URL the host listens on, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  config: HostConfig;
  /** The Hono app, for in-process requests (`app.request('/healthz')`). */
  app: Hono<HostEnv>;
  supervisor: Supervisor;
  /** Masks secrets (values taken from the environment) in a string. */
  redact: (text: string) => string;
  /**
   * Stops accepting requests, stops every integration (releasing in-flight work), closes the
   * pipeline, platform and sandbox, and resolves when all is closed. Safe to call twice.
   */
  stop(reason?: string): Promise<void>;
  /** After `stop()`: whether converter processes had to be killed in the middle of a conversion. */
  readonly killedConverters: boolean;
}

/**
 * Validates a configuration completely, then opens the services, listens, and starts every
 * enabled integration (one failing to start is reported; the others run). Resolves once every
 * integration has started or failed.
 *
 * @example
 * const host = await startHost({ configFile: 'tbi.yaml', port: 0 });
 * await fetch(`${host.url}/readyz`);
 * await host.stop();
 */
export async function startHost(options: StartHostOptions): Promise<HostHandle> {
  const loaded = await loadHostConfig(options).catch(withLaterStages);
  const { config } = loaded;
  const loadSource = sourceLoaderFor(config);
  const logger = options.logger ?? createLogger({ level: options.logLevel ?? config.log.level, pretty: options.pretty, redact: loaded.redact });
  const clock: Clock = options.clock ?? { now: () => Date.now() };
  const metrics = new PromMetrics();

  logger.info({ config: loaded.file ?? '(in memory)', version: hostVersion() }, 'validating configuration');
  const sandbox = openSandbox(config, logger, metrics);
  let prepared;
  try {
    prepared = await prepareHost(loaded, { loadSource, sandbox });
  } catch (error) {
    await sandbox.dispose();
    throw error;
  }
  const services = await openServices(config, { logger, metrics, clock, sandbox, baseDir: loaded.baseDir });
  const integrationGauges = integrationMetrics(metrics);
  const restartPolicy = { ...DEFAULT_RESTART_POLICY, ...options.restartPolicy };
  const root = createRootContainer({ sandbox, platform: services.platform, logger, metrics, clock });
  const instances = config.integrations.map(
    (entry) =>
      new IntegrationInstance(entry, prepared.pluginConfigs.get(entry.name), prepared.plugins.get(entry.type)!, {
        root,
        pipeline: services.pipeline,
        sandbox,
        loadSource,
        baseDir: loaded.baseDir,
        dataDir: config.dataDir,
        converterLimits: config.converters.limits,
        drainMs: Math.floor(config.shutdownGraceMs / 2),
        logger,
        restartPolicy,
        restarts: integrationGauges.restartsOf(entry.name, entry.type),
        ...(services.platform.log ? { recordLog: services.platform.log } : {}),
        metrics,
      }),
  );
  const supervisor = new Supervisor(instances, logger, () => services.platform.health?.());
  const replays = new ReplayJobs(
    new ReplayStore(path.join(config.dataDir, 'replays.db'), () => clock.now()),
    (name) => supervisor.get(name)?.replayTarget() ?? 'unknown',
    { logger, metrics, now: () => clock.now() },
  );
  const pluginList = listPlugins(prepared.discovery);
  const app = createHostApp({
    supervisor,
    metrics,
    logger,
    token: loaded.token,
    bodyLimitBytes: config.http.bodyLimitBytes,
    plugins: () => pluginList,
    apiRoutes: [
      ...services.apiRoutes,
      converterRoutes({ limits: config.converters.limits }),
      integrationDetailRoutes(supervisor, logger, loaded.redact),
      replayRoutes(replays),
    ],
    ...(config.console.enabled ? { console: consoleRoutes() } : {}),
    beforeScrape: () => integrationGauges.refresh(supervisor.readiness().integrations),
  });
  if (loaded.token === undefined) logger.warn({}, 'no control token: set auth.token or TBI_TOKEN to enable /api/* (it answers 401 until then)');
  else if (loaded.token.length < 16) logger.warn({}, 'the control token is shorter than 16 characters; use a long random one');

  let listening;
  try {
    listening = await listen(app, {
      host: options.host ?? config.http.host,
      port: options.port ?? config.http.port,
      tls: config.http.tls,
    });
  } catch (error) {
    await replays.close();
    await services.close();
    throw error;
  }
  logger.info({ url: listening.url, integrations: instances.length }, `listening on ${listening.url}`);
  await supervisor.startEnabled();
  replays.resumeUnfinished();
  for (const s of supervisor.readiness().integrations) {
    // Down (failed, or its plugin cannot reach its broker) is WARN: expected, retried, not a bug.
    const level = s.state === 'failed' || s.health.status === 'down' ? 'warn' : 'info';
    logger[level](
      { integration: s.name, type: s.type, state: s.state, health: s.health },
      `integration ${s.name}: ${s.health.status}${s.health.detail ? ` (${s.health.detail})` : ''}`,
    );
  }
  logger.info({ url: listening.url, ready: supervisor.readiness().ready }, 'host started');

  let stopping: Promise<void> | undefined;
  const stop = (reason = 'stop requested') =>
    (stopping ??= (async () => {
      logger.info({ reason }, `${reason}: stopping (no new requests; integrations release in-flight work)`);
      supervisor.shuttingDown = true;
      const closed = listening.close();
      // Integrations wait for the batch being converted; one stuck in a converter process is
      // ended with the processes once their in-flight messages have been released (drain time).
      const drainMs = Math.floor(config.shutdownGraceMs / 2);
      const killConverters = setTimeout(() => void sandbox.dispose().catch(() => undefined), drainMs + 100);
      // Replays stop where they are (their checkpoints are on disk) and resume at the next start.
      await Promise.all([replays.close(), supervisor.stopAll()]);
      clearTimeout(killConverters);
      listening.server.closeIdleConnections();
      await closed;
      await services.close();
      const killed = sandbox.stats?.().killedBusy ?? 0;
      if (killed > 0) logger.warn({ processes: killed }, `killed ${killed} converter process(es) in the middle of a conversion`);
      logger.info({}, 'host stopped');
    })());

  return {
    url: listening.url,
    port: listening.port,
    config,
    app,
    supervisor,
    redact: loaded.redact,
    stop,
    get killedConverters() {
      return (sandbox.stats?.().killedBusy ?? 0) > 0;
    },
  };
}

/** Loads the config of `startHost` options, from the file or the object. */
export function loadHostConfig(options: Pick<StartHostOptions, 'configFile' | 'config' | 'baseDir' | 'env'>): Promise<LoadedConfig> {
  const env = options.env === undefined ? {} : { env: options.env };
  if (options.configFile !== undefined) return loadConfig(options.configFile, env);
  return Promise.resolve(resolveConfig(options.config ?? {}, { ...env, baseDir: options.baseDir ?? process.cwd() }));
}
