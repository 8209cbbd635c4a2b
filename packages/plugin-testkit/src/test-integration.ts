import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createConverterSandbox } from '@tbi/converter-sandbox';
import { openEmbeddedPlatform, type EmbeddedPlatform } from '@tbi/platform-embedded';
import type { Integration, IntegrationContext, IntegrationHealth, PluginDefinition, RawMessage, SubmitOptions, UplinkOutcome } from '@tbi/plugin-api';
import {
  createRootContainer,
  IntegrationInstance,
  integrationSchema,
  loadSource,
  openPipeline,
  PromMetrics,
  REMOTE_ADDRESS_ENV,
  type InstanceStatus,
} from '@tbi/host';
import { memoryLogger, type MemoryLogger } from './memory-logger.js';
import { TestPlatform, type CommandResult } from './test-platform.js';
import { observed } from './observed-pipeline.js';
import { validatePluginConfig } from './validate-plugin-config.js';
import { waitFor } from './wait-for.js';

/**
 * The uplink converter used when a test gives none: the payload is JSON
 * `{ "device": "d1", "values": { … } }` (or any JSON, stored as telemetry of device `test-device`);
 * a payload with `"reject": true` makes it throw, so the message is dead-lettered.
 */
export const ECHO_UPLINK = `
var data = decodeToJson(payload);
if (data && data.reject === true) throw new Error('rejected by the test converter');
var values = (data && typeof data.values === 'object') ? data.values : { value: JSON.stringify(data) };
return { deviceName: (data && data.device) || 'test-device', deviceType: 'test', telemetry: values };
`;

/** The downlink converter used when a test gives none: sends `msg` as JSON, metadata passed on. */
export const ECHO_DOWNLINK = `
return { contentType: 'JSON', data: JSON.stringify(msg), metadata: metadata };
`;

/** Options of `startTestIntegration`. */
export interface TestIntegrationOptions {
  /** Instance name (default `<type>-test`). */
  name?: string;
  /** Uplink converter source (default `ECHO_UPLINK`). */
  uplinkConverter?: string;
  /** Downlink converter source (default `ECHO_DOWNLINK`). */
  downlinkConverter?: string;
  /** The integration's metadata for converters. */
  metadata?: Record<string, string>;
  /** Messages in flight at which the pipeline pauses the integration (default the host's 10 000). */
  maxInFlight?: number;
  /** `embedded` (default): a real SQLite platform in the data folder; `memory`: records only. */
  platform?: 'embedded' | 'memory';
  /** Reuse a folder (and so a persistent client id, routing key…) of an earlier run. */
  dir?: string;
  /** `ctx.configDir` (default the folder). */
  configDir?: string;
  /** How long stopping gives in-flight messages to be stored (default 500 ms). */
  drainMs?: number;
  /** Start at once (default true); otherwise call `start()`. */
  start?: boolean;
  /** Print the plugin's warnings and errors. */
  echoLogs?: boolean;
}

/** One `uplink.submit` (or `reject`) call of the plugin and how it ended. */
export interface SubmitRecord {
  messages: readonly RawMessage[];
  options?: SubmitOptions;
  /** Set when the call resolved. */
  outcomes?: UplinkOutcome[];
  /** Set when it rejected (a `ShutdownError` while stopping). */
  error?: unknown;
  /** `reject(messages, reason)` calls carry their reason. */
  rejectReason?: string;
}

/** A plugin running in process under the host's own lifecycle, pipeline, sandbox and platform. */
export interface TestIntegration {
  readonly name: string;
  readonly dir: string;
  readonly platform: TestPlatform;
  /** The real embedded platform behind `platform` (unless `platform: 'memory'`). */
  readonly embedded: EmbeddedPlatform | undefined;
  readonly logger: MemoryLogger;
  /** Every submit and reject of the plugin, across restarts. */
  readonly submits: SubmitRecord[];
  /** Each distinct health status the host reported, in order (`starting`, `up`, …). */
  readonly healthHistory: IntegrationHealth['status'][];
  /** The context the plugin's latest `create` received. */
  readonly ctx: IntegrationContext | undefined;
  /** What the plugin's latest `create` returned (to call its methods directly, e.g. `stop` twice). */
  readonly integration: Integration | undefined;
  /** What `/api/integrations` would show for it: state, merged health, error. */
  status(): InstanceStatus;
  health(): IntegrationHealth;
  /**
   * The status read while the instance is `failed`: the host starts a failed instance again after
   * a backoff, so a single `status()` may land in one of its `starting` attempts. Polls up to
   * `timeoutMs` (default 20 s).
   */
  failed(timeoutMs?: number): Promise<InstanceStatus>;
  /** Messages whose submit resolved `stored`, in order. */
  stored(): RawMessage[];
  /** Payloads (UTF-8) of `stored()`. */
  storedTexts(): string[];
  /** Dead letters the host keeps for this integration (failed conversions and rejects). */
  deadLetters(): Promise<Array<{ id: number; kind: string; reason: string; payloadText?: string }>>;
  /** Sum of a metric over the label sets matching `labels` (the `integration` label is added). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Sends a platform command to the integration and resolves with how its delivery ended. */
  downlink(command: { deviceName: string; msg: unknown; msgType?: string; metadata?: Record<string, string> }): Promise<CommandResult>;
  /** A request to the plugin's routes (path under `/api/v1/integrations/<type>`); 503 when not running. */
  request(pathUnderType: string, init?: RequestInit & { remoteAddress?: string }): Promise<Response>;
  /** Polls `condition` every 20 ms until it is true; throws with `what` after `timeoutMs` (default 20 s). */
  waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
  /** Starts the instance (again); resolves when the host considers it started or failed. */
  start(): Promise<void>;
  /** Stops it as the host does (drain, then release); safe to call twice. */
  stop(): Promise<void>;
  /** `stop()` then `start()`, with the same folder and platform. */
  restart(): Promise<void>;
  /** Stops and closes everything; removes the folder unless it was given. */
  close(): Promise<void>;
}

/**
 * Runs a plugin in process exactly as the host does — its config validated by the plugin's
 * schema, the host's `IntegrationInstance` lifecycle, child container and pipeline, the real
 * converter sandbox — against a `TestPlatform` that stores in a real embedded platform in a
 * temporary folder and can be told to fail or stall. No child process, no log grepping:
 * readiness, health and outcomes come from the host's own state.
 *
 * @example
 * const it = await startTestIntegration(plugin, { host: '127.0.0.1', port: 1883, topicFilters: [{ filter: 't/#', qos: 1 }] });
 * await publish('t/1', '{"device":"d1","values":{"t":21}}');
 * await it.waitFor(() => it.stored().length === 1, 'the message is stored');
 * await it.close();
 */
export async function startTestIntegration<Config>(
  plugin: PluginDefinition<Config>,
  config: unknown,
  options: TestIntegrationOptions = {},
): Promise<TestIntegration> {
  const name = options.name ?? `${plugin.type}-test`;
  const pluginConfig = await validatePluginConfig(plugin, config);
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), `tbi-kit-${plugin.type}-`)));
  const logger = memoryLogger({ echo: options.echoLogs });
  const clock = { now: () => Date.now() };
  const metrics = new PromMetrics({ defaultMetrics: false });
  const embedded =
    options.platform === 'memory' ? undefined : await openEmbeddedPlatform({ dataDir: dir, clock, logger: logger.child({ component: 'platform' }) });
  const platform = new TestPlatform(embedded);
  const sandbox = createConverterSandbox({ logger: logger.child({ component: 'sandbox' }), poolSize: 1 });
  const pipeline = await openPipeline({ platform, logger, metrics, clock, dataDir: dir, retry: { initialMs: 20, maxMs: 250 } });
  const root = createRootContainer({ sandbox, platform, logger, metrics, clock });
  const submits: SubmitRecord[] = [];
  const healthHistory: IntegrationHealth['status'][] = [];
  let ctx: IntegrationContext | undefined;
  let integration: Integration | undefined;

  const entry = integrationSchema.parse({
    name,
    type: plugin.type,
    config: typeof config === 'object' && config !== null ? config : {},
    metadata: options.metadata ?? {},
    uplinkConverter: { inline: options.uplinkConverter ?? ECHO_UPLINK },
    downlinkConverter: { inline: options.downlinkConverter ?? ECHO_DOWNLINK },
    debug: { mode: 'off' },
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
  });
  let instance: IntegrationInstance;
  const note = () => {
    const status = instance.status().health.status;
    if (healthHistory[healthHistory.length - 1] !== status) healthHistory.push(status);
  };
  // The plugin as the host loads it, with its `create` observed: the context it gets, and the
  // `starting` health the host reports while it runs.
  const definition = Object.freeze({
    ...plugin,
    create: async (context: IntegrationContext<Config>) => {
      ctx = context as IntegrationContext;
      note();
      integration = await plugin.create(context);
      return integration;
    },
  }) as unknown as PluginDefinition;
  instance = new IntegrationInstance(entry, pluginConfig, { definition, info: testPluginInfo(plugin) } as never, {
    root,
    pipeline: observed(pipeline, submits),
    sandbox,
    loadSource,
    baseDir: options.configDir ?? dir,
    dataDir: dir,
    converterLimits: undefined,
    drainMs: options.drainMs ?? 500,
    logger,
  });
  const poll = setInterval(note, 10);
  poll.unref();

  const handle: TestIntegration = {
    name,
    dir,
    platform,
    embedded,
    logger,
    submits,
    healthHistory,
    get ctx() {
      return ctx;
    },
    get integration() {
      return integration;
    },
    status: () => {
      note();
      return instance.status();
    },
    health: () => {
      note();
      return instance.status().health;
    },
    async failed(timeoutMs) {
      let last = handle.status();
      await waitFor(() => (last = handle.status()).state === 'failed', `integration ${name} failed (last: ${last.state})`, timeoutMs);
      return last;
    },
    stored: () => submits.flatMap((s) => (s.outcomes ? s.messages.filter((_, i) => s.outcomes![i]?.status === 'stored') : [])),
    storedTexts: () => handle.stored().map((m) => Buffer.from(m.payload).toString('utf8')),
    async deadLetters() {
      const res = await pipeline.routes().request(`/dead-letters?integration=${encodeURIComponent(name)}&limit=1000`);
      const body = (await res.json()) as { items?: Array<{ id: number; error: { kind: string; message: string }; payload: { text?: string } }> };
      return (body.items ?? []).map((d) => ({
        id: d.id,
        kind: d.error.kind,
        reason: d.error.message,
        ...(d.payload.text === undefined ? {} : { payloadText: d.payload.text }),
      }));
    },
    async metric(metricName, labels = {}) {
      const { body } = await metrics.text();
      const wanted = { integration: name, ...labels };
      let sum = 0;
      for (const line of body.split('\n')) {
        if (!line.startsWith(`${metricName}{`) && !line.startsWith(`${metricName} `)) continue;
        if (!Object.entries(wanted).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    },
    downlink: (command) =>
      platform.sendCommand({
        deviceName: command.deviceName,
        integration: name,
        msg: command.msg,
        msgType: command.msgType ?? 'RPC_CALL_FROM_SERVER_TO_DEVICE',
        metadata: { deviceName: command.deviceName, ...command.metadata },
      }),
    async request(pathUnderType, init = {}) {
      const router = instance.liveRouter();
      if (!router) return Response.json({ error: `integration "${name}" is not running` }, { status: 503 });
      const url = `http://127.0.0.1/api/v1/integrations/${plugin.type}${pathUnderType.startsWith('/') ? '' : '/'}${pathUnderType}`;
      return router.fetch(new Request(url, init), { [REMOTE_ADDRESS_ENV]: init.remoteAddress ?? '127.0.0.1' });
    },
    waitFor: (condition, what, timeoutMs) => waitFor(condition, what, timeoutMs),
    async start() {
      await instance.start();
      note();
    },
    async stop() {
      await instance.stop();
      note();
    },
    async restart() {
      await handle.stop();
      await handle.start();
    },
    async close() {
      clearInterval(poll);
      const stopping = instance.stop();
      // A stalled platform would hold the batch in progress, and so the stop, for ever.
      setTimeout(() => platform.setMode('fail'), (options.drainMs ?? 500) + 200).unref();
      await stopping;
      await pipeline.close();
      await sandbox.dispose();
      await platform.close();
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
  if (options.start !== false) await handle.start();
  return handle;
}

/** What the host's listing would say about a plugin given as an object. */
function testPluginInfo(plugin: PluginDefinition<unknown>) {
  return { packageName: `(test) ${plugin.type}`, version: plugin.apiVersion, dir: process.cwd(), compatible: true };
}
