import type { HttpRouter, IntegrationContext } from '@tbi/plugin-api';
import { memoryMetrics } from './memory-metrics.js';
import { silentLogger } from './silent-logger.js';

/** What the test must give a hand-built context; every other field has an inert default. */
export type BareContextOptions<Config> = Pick<IntegrationContext<Config>, 'type' | 'config' | 'uplink' | 'dataDir'> &
  Partial<Omit<IntegrationContext<Config>, 'type' | 'config' | 'uplink' | 'dataDir'>>;

const notUsed = (what: string) => () => Promise.reject(new Error(`${what} is not part of this hand-built test context`));

/**
 * An `IntegrationContext` put together by hand, for a connector's own tests that stand in for the
 * pipeline with a recording `uplink` (to stall, fail or reject submits at chosen moments). Prefer
 * `startTestIntegration`, which runs the real pipeline, unless a test needs that control.
 * Defaults: name `<type>-test`, no metadata, `silentLogger`, `memoryMetrics()`, the wall clock, an
 * empty router (pass `http` when the plugin mounts routes), no pending downlinks, a sandbox and a
 * platform that refuse use, `configDir` = `dataDir`, and a signal that never aborts.
 *
 * @example
 * const abort = new AbortController();
 * const ctx = bareContext({ type: 'mqtt', config, uplink: recording, dataDir, signal: abort.signal });
 * const integration = await plugin.create(ctx);
 */
export function bareContext<Config>(options: BareContextOptions<Config>): IntegrationContext<Config> {
  return {
    name: `${options.type}-test`,
    metadata: {},
    logger: silentLogger,
    metrics: memoryMetrics(),
    clock: { now: () => Date.now() },
    http: {} as HttpRouter,
    downlinks: { take: () => undefined },
    sandbox: { uplink: notUsed('the converter sandbox'), downlink: notUsed('the converter sandbox') },
    platform: { getDevice: async () => undefined, latestTelemetry: async () => ({}), onCommand: () => () => {} },
    configDir: options.dataDir,
    signal: new AbortController().signal,
    ...options,
  };
}
