import { createConverterSandbox, loadConverterSource } from '@tbi/converter-sandbox';
import { createPlatformRoutes, openEmbeddedPlatform, type EmbeddedPlatform } from '@tbi/platform-embedded';
import { loadPem, type Clock, type Logger, type Metrics, type PlatformClient } from '@tbi/plugin-api';
import { openThingsBoardPlatform } from '@tbi/platform-thingsboard';
import type { Hono } from 'hono';
import type { HostConfig } from '../config/config-schema.js';
import { openPipeline } from '../pipeline/index.js';
import type { ConverterSourceLoader, PipelineService, SandboxService } from './host-services.js';

/** The host's shared services, opened in order and closed in reverse. */
export interface OpenServices {
  sandbox: SandboxService;
  platform: PlatformClient & { close(): Promise<void> };
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
  const restarts = metrics?.counter(
    'tbi_converter_process_restarts_total',
    'Converter processes that ended (abort, exit, hang, memory, catastrophic) and were restarted.',
    ['cause'],
  );
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
  deps: { logger: Logger; metrics: Metrics; clock: Clock; sandbox?: SandboxService; baseDir?: string },
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
    const platform = await openPlatform(config, deps);
    closers.push(() => platform.close());
    const pipeline = await openPipeline({ platform, logger: deps.logger, metrics: deps.metrics, clock: deps.clock, dataDir: config.dataDir });
    closers.push(() => pipeline.close());
    // The embedded platform's REST API exists only for it; ThingsBoard has its own.
    const platformRoutes =
      'listDevices' in platform ? [createPlatformRoutes(platform as EmbeddedPlatform, { logger: deps.logger.child({ component: 'platform-api' }) })] : [];
    return { sandbox, platform, pipeline, apiRoutes: [pipeline.routes(), ...platformRoutes], close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Opens the platform the config names: the embedded store (default) or ThingsBoard. */
async function openPlatform(
  config: HostConfig,
  deps: { logger: Logger; metrics: Metrics; clock: Clock; baseDir?: string },
): Promise<PlatformClient & { close(): Promise<void> }> {
  const logger = deps.logger.child({ component: 'platform' });
  const p = config.platform;
  if (p.type === 'embedded') {
    // The log of stored records is kept only while some integration exports: each one reads it.
    const readers = config.integrations.filter((i) => i.export).map((i) => i.name);
    return openEmbeddedPlatform({
      dataDir: config.dataDir,
      ...(p.telemetryTtlDays === undefined ? {} : { telemetryTtlDays: p.telemetryTtlDays }),
      ...(readers.length === 0
        ? {}
        : { recordLog: { readers, ...(p.recordLogRetentionDays === undefined ? {} : { retentionDays: p.recordLogRetentionDays }) } }),
      clock: deps.clock,
      logger,
    });
  }
  const pem = (value: string | undefined, path: string) =>
    value === undefined ? undefined : loadPem(value, { configDir: deps.baseDir ?? process.cwd(), path });
  const tls = p.tls && {
    ca: await pem(p.tls.ca, 'platform.tls.ca'),
    cert: await pem(p.tls.cert, 'platform.tls.cert'),
    key: await pem(p.tls.key, 'platform.tls.key'),
    rejectUnauthorized: p.tls.rejectUnauthorized,
  };
  return openThingsBoardPlatform({
    host: p.host,
    accessToken: p.accessToken,
    protocolVersion: p.protocolVersion,
    dataDir: config.dataDir,
    delivery: p.delivery,
    ...(p.port === undefined ? {} : { port: p.port }),
    ...(p.clientId === undefined ? {} : { clientId: p.clientId }),
    ...(tls ? { tls: Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) } : {}),
    ...(p.outboxMaxRecords === undefined ? {} : { outboxMaxRecords: p.outboxMaxRecords }),
    ...(p.outboxMaxAgeDays === undefined ? {} : { outboxMaxAgeMs: p.outboxMaxAgeDays * 86_400_000 }),
    ...(p.deviceIdleSeconds === undefined ? {} : { deviceIdleMs: p.deviceIdleSeconds * 1000 }),
    clock: deps.clock,
    logger,
    metrics: deps.metrics,
  });
}
