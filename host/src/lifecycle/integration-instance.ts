import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import {
  PluginError,
  type DownlinkConverter,
  type HttpRouter,
  type Integration,
  type IntegrationHealth,
  type Logger,
  type UplinkConverter,
} from '@tbi/plugin-api';
import type { IntegrationEntry } from '../config/config-schema.js';
import { createIntegrationContainer, resolveIntegrationContext } from '../di/containers.js';
import { createPluginRouter } from '../http/plugin-router.js';
import type { RoutableInstance } from '../http/plugin-dispatch.js';
import type { LoadedPlugin } from '../plugins/load-plugin.js';
import type { ConverterSourceLoader, IntegrationChannel, PipelineService, SandboxService, SandboxLimits } from './host-services.js';

/** Where an instance is in its life. */
export type InstanceState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

/** What `/api/integrations` and `/readyz` show for one instance. */
export interface InstanceStatus {
  name: string;
  type: string;
  plugin: { package: string; version: string };
  enabled: boolean;
  /** Whether it should run: set by `enabled` and by the start/stop API. */
  desired: 'running' | 'stopped';
  state: InstanceState;
  health: IntegrationHealth;
  /** Why it failed to start, with the plugin's name and the cause. */
  error?: string;
}

/** The host-wide services every instance is built from. */
export interface InstanceDeps {
  root: DependencyContainer;
  pipeline: PipelineService;
  sandbox: SandboxService;
  loadSource: ConverterSourceLoader;
  baseDir: string;
  dataDir: string;
  converterLimits: SandboxLimits | undefined;
  /** How long in-flight messages get to be stored when the instance stops, before release. */
  drainMs: number;
  logger: Logger;
}

const SEVERITY: Record<IntegrationHealth['status'], number> = { up: 0, starting: 1, degraded: 2, stopped: 3, down: 4 };

/**
 * One configured integration: builds its child container and context, starts and stops the
 * plugin's `Integration`, and reports its status. Start and stop calls are serialised, and every
 * start builds everything afresh (converters are re-read from their files).
 */
export class IntegrationInstance implements RoutableInstance {
  readonly name: string;
  readonly type: string;
  desired: 'running' | 'stopped';
  private state: InstanceState = 'stopped';
  private error: string | undefined;
  private router: HttpRouter | undefined;
  private running: { integration: Integration; channel: IntegrationChannel; converters: Array<UplinkConverter | DownlinkConverter>; abort: AbortController } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly logger: Logger;

  constructor(
    readonly entry: IntegrationEntry,
    /** The plugin's validated `config` block. */
    private readonly pluginConfig: unknown,
    readonly plugin: LoadedPlugin,
    private readonly deps: InstanceDeps,
  ) {
    this.name = entry.name;
    this.type = entry.type;
    this.desired = entry.enabled ? 'running' : 'stopped';
    this.logger = deps.logger.child({ integration: entry.name, type: entry.type });
  }

  liveRouter(): HttpRouter | undefined {
    return this.state === 'running' ? this.router : undefined;
  }

  wantsToRun(): boolean {
    return this.desired === 'running';
  }

  /** Starts the instance; never rejects: a failure is kept in the status and logged. */
  start(): Promise<void> {
    this.desired = 'running';
    return this.serialise(() => this.doStart());
  }

  /** Stops the instance and releases its in-flight work; never rejects. */
  stop(options: { keepDesired?: boolean } = {}): Promise<void> {
    if (!options.keepDesired) this.desired = 'stopped';
    return this.serialise(() => this.doStop());
  }

  status(): InstanceStatus {
    return {
      name: this.name,
      type: this.type,
      plugin: { package: this.plugin.info.packageName, version: this.plugin.info.version },
      enabled: this.entry.enabled,
      desired: this.desired,
      state: this.state,
      health: this.health(),
      ...(this.error === undefined ? {} : { error: this.error }),
    };
  }

  private health(): IntegrationHealth {
    switch (this.state) {
      case 'running': {
        // The plugin knows its connection; the channel knows the platform (degraded while it
        // fails). The worse of the two is the instance's health.
        let own: IntegrationHealth;
        try {
          own = this.running!.integration.health();
        } catch (cause) {
          own = { status: 'down', detail: `health() threw: ${(cause as Error).message}` };
        }
        const channel = this.running!.channel.health();
        // A message of this integration that ended its converter process: degraded for a while.
        const sandbox = this.deps.sandbox.integrationHealth?.(this.name);
        const worst = SEVERITY[channel.status] > SEVERITY[own.status] ? channel : own;
        return sandbox !== undefined && SEVERITY[sandbox.status] > SEVERITY[worst.status] ? sandbox : worst;
      }
      case 'starting':
        return { status: 'starting' };
      case 'failed':
        return { status: 'down', detail: this.error };
      case 'stopping':
        return { status: 'stopped', detail: 'stopping' };
      default:
        return { status: 'stopped' };
    }
  }

  private serialise(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async doStart(): Promise<void> {
    if (this.state === 'running') return;
    this.state = 'starting';
    this.error = undefined;
    const started = Date.now();
    const pkg = `${this.plugin.info.packageName} ${this.plugin.info.version}`;
    this.logger.info({ plugin: pkg }, 'starting integration');
    const converters: Array<UplinkConverter | DownlinkConverter> = [];
    let channel: IntegrationChannel | undefined;
    let integration: Integration | undefined;
    const abort = new AbortController();
    try {
      const { entry, deps } = this;
      const limits = { ...deps.converterLimits, ...entry.converterLimits };
      const uplinkSource = await deps.loadSource(entry.uplinkConverter, 'uplink', deps.baseDir);
      const uplink = await deps.sandbox.uplink(`${entry.name}/uplink`, uplinkSource.source, limits);
      converters.push(uplink);
      let downlink: DownlinkConverter | undefined;
      if (entry.downlinkConverter) {
        const downlinkSource = await deps.loadSource(entry.downlinkConverter, 'downlink', deps.baseDir);
        downlink = await deps.sandbox.downlink(`${entry.name}/downlink`, downlinkSource.source, limits);
        converters.push(downlink);
      }
      channel = deps.pipeline.attach({
        name: entry.name,
        type: entry.type,
        metadata: entry.metadata,
        uplink,
        ...(downlink ? { downlink } : {}),
        downlinkMode: this.plugin.definition.downlink,
        ...(entry.maxInFlight === undefined ? {} : { maxInFlight: entry.maxInFlight }),
        debug: entry.debug,
      });
      const dataDir = path.join(deps.dataDir, 'integrations', entry.name);
      await mkdir(dataDir, { recursive: true });
      const router = createPluginRouter(this.logger, this.type);
      const child = createIntegrationContainer(deps.root, {
        value: { name: entry.name, type: entry.type, config: this.pluginConfig, metadata: entry.metadata },
        logger: this.logger,
        router,
        uplink: channel.uplink,
        downlinks: channel.downlinks,
      });
      const ctx = resolveIntegrationContext(child, { dataDir, configDir: deps.baseDir, signal: abort.signal });
      integration = await this.plugin.definition.create(ctx);
      channel.bind(integration);
      this.router = router;
      await integration.start();
      this.running = { integration, channel, converters, abort };
      this.state = 'running';
      this.logger.info({ plugin: pkg, ms: Date.now() - started, health: integration.health() }, 'integration started');
    } catch (cause) {
      abort.abort();
      this.router = undefined;
      const reason = cause instanceof Error ? cause.message : String(cause);
      const error = new PluginError('INTEGRATION_START_FAILED', `integration "${this.name}" (plugin ${pkg}) failed to start: ${reason}`, {
        cause,
        context: { integration: this.name, plugin: this.plugin.info.packageName },
      });
      this.error = error.message;
      this.state = 'failed';
      this.logger.error({ plugin: pkg, err: cause }, error.message);
      await this.release(integration, channel, converters);
    }
  }

  private async doStop(): Promise<void> {
    const running = this.running;
    if (this.state !== 'running' || running === undefined) {
      if (this.state === 'failed' && this.desired === 'stopped') this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.logger.info({}, 'stopping integration');
    running.abort.abort();
    await this.release(running.integration, running.channel, running.converters);
    this.running = undefined;
    this.router = undefined;
    this.state = 'stopped';
    this.logger.info({}, 'integration stopped');
  }

  /** Stops what was built, in reverse order; a failure of one step is logged, the rest still run. */
  private async release(
    integration: Integration | undefined,
    channel: IntegrationChannel | undefined,
    converters: ReadonlyArray<UplinkConverter | DownlinkConverter>,
  ): Promise<void> {
    const step = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        this.logger.warn({ err }, `${what} failed while stopping`);
      }
    };
    // Together: the channel refuses new submits and gives in-flight ones `drainMs` to be stored
    // (then rejects them with ShutdownError, so they are never acknowledged), while the plugin
    // stops reading and answers its in-flight requests.
    await Promise.all([
      integration ? step('integration.stop()', () => integration.stop()) : undefined,
      channel ? step('detaching from the pipeline', () => channel.detach({ graceMs: this.deps.drainMs })) : undefined,
    ]);
    for (const converter of converters) await step(`disposing converter ${converter.name}`, () => converter.dispose());
  }
}
