import { createConverterSandbox, loadConverterSource } from '@tbi/converter-sandbox';
import { createPlatformRoutes, openEmbeddedPlatform, type EmbeddedPlatform } from '@tbi/platform-embedded';
import type { Clock, Logger, Metrics } from '@tbi/plugin-api';
import type { Hono } from 'hono';
import type { HostConfig } from '../config/config-schema.js';
import { openPipeline } from '../pipeline/index.js';
import type { ConverterSourceLoader, PipelineService, SandboxService } from './host-services.js';

/** The host's shared services, opened in order and closed in reverse. */
export interface OpenServices {
  sandbox: SandboxService;
  platform: EmbeddedPlatform;
  pipeline: PipelineService;
  /** Control routes of the platform and the pipeline, for `/api`. */
  apiRoutes: Hono[];
  close(): Promise<void>;
}

/** Reads converter sources with the sandbox package's loader (inline or file), files up to its default size. */
export const loadSource: ConverterSourceLoader = (spec, kind, baseDir) => loadConverterSource(spec, kind, baseDir);

/** The loader with the config's `converters.maxSourceBytes`. */
export function sourceLoaderFor(config: HostConfig): ConverterSourceLoader {
  const maxBytes = config.converters.maxSourceBytes;
  return (spec, kind, baseDir) => loadConverterSource(spec, kind, baseDir, { maxBytes });
}

/**
 * Makes the converter sandbox with the config's processes, pool size and default limits. Each
 * converter process that ends unexpectedly is logged and counted in
 * `tbi_converter_process_restarts_total{cause}`.
 */
export function openSandbox(config: HostConfig, logger?: Logger, metrics?: Metrics): SandboxService {
  const log = logger?.child({ component: 'sandbox' });
  const restarts = metrics?.counter('tbi_converter_process_restarts_total', 'Converter processes that ended (abort, exit, hang, memory, catastrophic) and were restarted.', ['cause']);
  return createConverterSandbox({
    ...(log ? { logger: log } : {}),
    ...(config.converters.poolSize === undefined ? {} : { poolSize: config.converters.poolSize }),
    ...(config.converters.processes === undefined ? {} : { processes: config.converters.processes }),
    ...(config.converters.processMemoryMb === undefined ? {} : { processMemoryMb: config.converters.processMemoryMb }),
    ...(config.converters.limits === undefined ? {} : { defaultLimits: config.converters.limits }),
    onRestart: (event) => {
      restarts?.inc({ cause: event.cause });
      log?.warn({ cause: event.cause, converter: event.converter, error: event.message }, `converter process restarted: ${event.message}`);
    },
  });
}

/**
 * Opens the sandbox, the platform and the pipeline. If one fails to open, those already open are
 * closed before the error is thrown.
 */
export async function openServices(
  config: HostConfig,
  deps: { logger: Logger; metrics: Metrics; clock: Clock; sandbox?: SandboxService },
): Promise<OpenServices> {
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        deps.logger.warn({ err }, 'closing a service failed');
      }
    }
  };
  try {
    const sandbox = deps.sandbox ?? openSandbox(config, deps.logger, deps.metrics);
    closers.push(() => sandbox.dispose());
    const platform = await openEmbeddedPlatform({
      dataDir: config.dataDir,
      ...(config.platform.telemetryTtlDays === undefined ? {} : { telemetryTtlDays: config.platform.telemetryTtlDays }),
      clock: deps.clock,
      logger: deps.logger.child({ component: 'platform' }),
    });
    closers.push(() => platform.close());
    const pipeline = await openPipeline({ platform, logger: deps.logger, metrics: deps.metrics, clock: deps.clock, dataDir: config.dataDir });
    closers.push(() => pipeline.close());
    const platformRoutes = createPlatformRoutes(platform, { logger: deps.logger.child({ component: 'platform-api' }) });
    return { sandbox, platform, pipeline, apiRoutes: [pipeline.routes(), platformRoutes], close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
