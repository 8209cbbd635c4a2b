// In-process harness for route tests: the plugin's real `create()` on a real Hono router, with a
// real `IntegrationContext` whose `uplink.submit` converts with the real converter sandbox, then
// "stores" into a recording platform whose behaviour a test can change (slow, down, stopping).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ShutdownError,
  type DeviceRecord,
  type HttpRouter,
  type Integration,
  type IntegrationContext,
  type OutboundDownlink,
  type PlatformClient,
  type RawMessage,
  type UplinkOutcome,
} from '@tbi/plugin-api';
import { createConverterSandbox } from '@tbi/converter-sandbox';
import { memoryMetrics, silentLogger, type MemoryMetrics } from '@tbi/plugin-testkit';
import { Hono } from 'hono';
import { httpConfigSchema, type HttpConfig, type HttpConfigInput } from '../src/config.js';
import httpPlugin from '../src/plugin.js';

/** How the recording platform treats an ingest: store, wait forever (platform down), or fail. */
export type PlatformMode = 'up' | 'down' | 'shutdown';

export interface HarnessOptions {
  config?: HttpConfigInput;
  /** Body of the uplink decoder, ThingsBoard style (`payload` bytes, `metadata` map). */
  decoder?: string;
  /** The integration's own metadata, given to the converter. */
  metadata?: Record<string, string>;
  now?: () => number;
}

export interface Harness {
  integration: Integration;
  config: HttpConfig;
  routingKey: string;
  /** Client address the host would report for the next requests. */
  remoteAddress: string;
  platform: PlatformMode;
  /** Every message the plugin submitted, as submitted. */
  submitted: RawMessage[];
  /** Records stored by the platform. */
  stored: DeviceRecord[];
  /** Metadata the converter saw, per message. */
  converterMetadata: Array<Record<string, string>>;
  /** Downlinks the host's own pending queue hands out (pull-mode fallback). */
  hostPending: OutboundDownlink[];
  metrics: MemoryMetrics;
  /** Always `real` now (the stand-in sandbox is gone); kept because route tests state it. */
  sandboxKind: 'real';
  /** Sends a request to a path relative to `/api/v1/integrations/http` (e.g. `/${key}/x`). */
  request(relativePath: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** Echoes the body into telemetry and takes the device name from `?device=` or the JSON body. */
export const ECHO_DECODER = `
  var text = String.fromCharCode.apply(null, payload);
  var name = metadata['Query:device'];
  if (!name) { try { name = JSON.parse(text).deviceName; } catch (e) {} }
  if (metadata['Query:empty'] === '1') return [];
  if (metadata['Query:fail'] === '1') throw new Error('converter says no');
  return { deviceName: name || 'dev-1', deviceType: 'sensor', telemetry: { bytes: payload.length } };
`;

/** Creates and starts one `http` integration in-process. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const config = httpConfigSchema.parse(options.config ?? {});
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tbi-http-'));
  const sandbox = createConverterSandbox({ poolSize: 1 });
  const converter = await sandbox.uplink('harness/uplink', options.decoder ?? ECHO_DECODER);
  const abort = new AbortController();
  const metrics = memoryMetrics();
  const integrationMetadata = options.metadata ?? {};
  const waiting = new Set<(error: Error) => void>();

  const h = {
    remoteAddress: '127.0.0.1',
    platform: 'up' as PlatformMode,
    submitted: [] as RawMessage[],
    stored: [] as DeviceRecord[],
    converterMetadata: [] as Array<Record<string, string>>,
    hostPending: [] as OutboundDownlink[],
  };

  const store = async (records: DeviceRecord[]): Promise<void> => {
    if (h.platform === 'shutdown') throw new ShutdownError();
    if (h.platform === 'down') {
      // Like the real pipeline: wait while the platform is down, reject only when stopping.
      await new Promise<void>((_, reject) => waiting.add(reject));
    }
    h.stored.push(...records);
  };

  const platform: PlatformClient = {
    ingest: async (items) => {
      for (const item of items) await store(item.records);
      return { stored: items.length, duplicates: 0 };
    },
    onCommand: () => () => {},
    commandResult: () => {},
  };
  // What the plugin may see of the platform (reads and commands, no writes).
  const view = { getDevice: async () => undefined, latestTelemetry: async () => ({}), onCommand: platform.onCommand };

  const router = new Hono<{ Variables: { remoteAddress: string } }>();
  router.use('*', async (c, next) => {
    c.set('remoteAddress', h.remoteAddress);
    await next();
  });

  const ctx: IntegrationContext<HttpConfig> = {
    name: 'http-test',
    type: 'http',
    config,
    metadata: integrationMetadata,
    logger: silentLogger,
    metrics,
    clock: { now: options.now ?? Date.now },
    http: router as unknown as HttpRouter,
    uplink: {
      async submit(messages): Promise<UplinkOutcome[]> {
        h.submitted.push(...messages);
        const inputs = messages.map((m) => {
          const metadata = { ...integrationMetadata, ...m.metadata, integrationName: 'http-test' };
          h.converterMetadata.push(metadata);
          return { payload: m.payload, metadata, ...(m.receivedAt === undefined ? {} : { receivedAt: m.receivedAt }) };
        });
        const results = await converter.run(inputs);
        const outcomes: UplinkOutcome[] = [];
        for (const result of results) {
          if (!result.ok) {
            outcomes.push({ status: 'dead-lettered', error: result.error });
            continue;
          }
          await platform.ingest([{ integration: 'http-test', records: result.records }]);
          outcomes.push({ status: 'stored', records: result.records });
        }
        return outcomes;
      },
      reject: () => Promise.reject(new Error('the http plugin rejects with a status code, never through uplink.reject')),
    },
    downlinks: {
      take: (deviceName) => {
        const i = h.hostPending.findIndex((d) => d.deviceName === deviceName);
        return i === -1 ? undefined : h.hostPending.splice(i, 1)[0];
      },
    },
    sandbox,
    platform: view,
    dataDir,
    configDir: dataDir,
    signal: abort.signal,
  };

  const integration = await httpPlugin.create(ctx);
  await integration.start();
  const routingKey = /endpoint \/api\/v1\/integrations\/http\/(\S+)/.exec(integration.health().detail ?? '')?.[1] ?? '';

  return Object.assign(h, {
    integration,
    config,
    routingKey,
    metrics,
    sandboxKind: 'real' as const,
    request: (relativePath: string, init?: RequestInit) => Promise.resolve(router.request(relativePath, init)),
    async stop() {
      abort.abort();
      await integration.stop();
      for (const reject of waiting) reject(new ShutdownError());
      await converter.dispose();
      await sandbox.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}
