import path from 'node:path';
import { Hono } from 'hono';
import { PluginError, type Clock, type Logger, type Metrics, type PlatformClient } from '@tbi/plugin-api';
import { DeadLetterStore } from '../dead-letters/dead-letter-store.js';
import { deadLetterRoutes } from '../dead-letters/routes.js';
import { debugEventRoutes } from '../debug-events/routes.js';
import { Channel, type AttachOptions, type ChannelStatus, type IntegrationChannel } from './channel.js';
import type { DownlinkOptions } from './downlink-path.js';
import { createPipelineMetrics, integrationLabels } from './pipeline-metrics.js';
import type { PipelineShared } from './pipeline-shared.js';
import { replayDeadLetters } from './replay.js';
import type { BatchOptions } from './uplink-engine.js';

/** What `openPipeline` needs from the host. */
export interface PipelineDeps {
  platform: PlatformClient;
  logger: Logger;
  metrics: Metrics;
  clock: Clock;
  /** The host's data directory; the dead letters live in `<dataDir>/dead-letters.db`. */
  dataDir: string;
  /** Backoff of platform retries (default 100 ms doubling up to 30 s, full jitter). */
  retry?: { initialMs?: number; maxMs?: number };
  /** Default coalescing of submits into converter batches; `attach` may override it. */
  batch?: BatchOptions;
  downlink?: DownlinkOptions;
  /** Dead letters kept per integration before the oldest are deleted (default 100 000). */
  maxDeadLettersPerIntegration?: number;
}

/** The message pipeline of a host: one channel per running integration. */
export interface Pipeline {
  /** Creates the channel of an integration instance. Throws `PluginError` if the name is taken. */
  attach(options: AttachOptions): IntegrationChannel;
  /** The channel of a running integration, if attached. */
  channel(name: string): IntegrationChannel | undefined;
  /** Every attached channel's status. */
  status(): ChannelStatus[];
  /** Dead-letter and debug-event routes, for the host to mount under `/api` behind its token. */
  routes(): Hono;
  /** Detaches every channel, stops listening for commands and closes the dead-letter database. */
  close(): Promise<void>;
}

/**
 * Opens the pipeline: the dead-letter database, the metrics, and the subscription to platform
 * commands (downlinks).
 *
 * @example
 * const pipeline = await openPipeline({ platform, logger, metrics, clock, dataDir });
 * const channel = pipeline.attach({ name: 'mqtt-1', type: 'mqtt', metadata: {}, uplink, downlink, downlinkMode: 'push' });
 * const integration = await plugin.create({ ...ctx, uplink: channel.uplink, downlinks: channel.downlinks });
 * channel.bind(integration);
 * app.route('/api', pipeline.routes());
 */
export async function openPipeline(deps: PipelineDeps): Promise<Pipeline> {
  const logger = deps.logger.child({ component: 'pipeline' });
  const deadLetters = new DeadLetterStore(path.join(deps.dataDir, 'dead-letters.db'), {
    now: () => deps.clock.now(),
    maxPerIntegration: deps.maxDeadLettersPerIntegration,
  });
  const shared: PipelineShared = {
    platform: deps.platform,
    logger,
    clock: deps.clock,
    metrics: createPipelineMetrics(deps.metrics),
    deadLetters,
    retry: { initialDelayMs: deps.retry?.initialMs ?? 100, maxDelayMs: deps.retry?.maxMs ?? 30_000 },
    batch: deps.batch ?? {},
    downlink: deps.downlink ?? {},
  };
  const channels = new Map<string, Channel>();
  let closed = false;

  const unsubscribe = deps.platform.onCommand((command) => {
    const channel = command.integration === undefined ? undefined : channels.get(command.integration);
    if (!channel) {
      const error =
        command.integration === undefined
          ? `no integration carries device ${command.deviceName}`
          : `integration ${command.integration}, which carries device ${command.deviceName}, is not running`;
      logger.warn({ commandId: command.id, deviceName: command.deviceName, integration: command.integration }, error);
      shared.metrics.downlinksFailed.inc(integrationLabels(command.integration ?? '(none)'));
      deps.platform.commandResult(command.id, { ok: false, error });
      return;
    }
    void channel.deliver(command);
  });

  const pipeline: Pipeline = {
    attach(options) {
      if (closed) throw new PluginError('PIPELINE_CLOSED', 'the pipeline is closed', { context: { integration: options.name } });
      if (channels.has(options.name)) {
        throw new PluginError('INTEGRATION_DUPLICATE', `an integration named ${options.name} is already attached`, {
          context: { integration: options.name },
        });
      }
      const channel = new Channel(options, shared, () => {
        if (channels.get(options.name) === channel) channels.delete(options.name);
      });
      channels.set(options.name, channel);
      return channel;
    },
    channel: (name) => channels.get(name),
    status: () => [...channels.values()].map((c) => c.status()),
    routes() {
      const app = new Hono();
      app.route(
        '/',
        deadLetterRoutes(deadLetters, (filter) => replayDeadLetters(deadLetters, (name) => channels.get(name), filter)),
      );
      app.route(
        '/',
        debugEventRoutes((name) => channels.get(name)?.ring),
      );
      return app;
    },
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      await Promise.allSettled([...channels.values()].map((c) => c.detach()));
      deadLetters.close();
    },
  };
  return pipeline;
}
