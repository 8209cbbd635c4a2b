import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import {
  PluginError,
  type DownlinkConverter,
  type HttpRouter,
  type Integration,
  type Counter,
  type Metrics,
  type IntegrationHealth,
  type Logger,
  type StoredRecordLog,
  type UplinkConverter,
} from '@tbi/plugin-api';
import { RecordExport, type ExportStatus } from '../export/record-export.js';
import type { IntegrationEntry } from '../config/config-schema.js';
import { createIntegrationContainer, resolveIntegrationContext } from '../di/containers.js';
import { createPluginRouter } from '../http/plugin-router.js';
import type { RoutableInstance } from '../http/plugin-dispatch.js';
import type { LoadedPlugin } from '../plugins/load-plugin.js';
import type { ConverterSourceLoader, IntegrationChannel, PipelineService, SandboxService, SandboxLimits } from './host-services.js';
import { stageConverterFile } from './converter-file-write.js';
import { DownWatchdog } from './down-watchdog.js';
import { DEFAULT_RESTART_POLICY, RestartSchedule, type RestartPolicy } from './restart-schedule.js';
import type { ReplayTarget, ReplayUnavailable } from '../replay/replay-jobs.js';

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
  /** Why it failed, with the plugin's name and the cause. */
  error?: string;
  /** The restart the host has planned after a failure (until it happens or the user stops it). */
  restart?: { attempt: number; at: string; cause: string };
  /** The integration's event export, while it runs. */
  export?: ExportStatus;
}

/** Which of an integration's converters. */
export type ConverterKind = 'uplink' | 'downlink';

/** A converter's source as the console's editor shows it. */
export interface ConverterSourceView {
  source: string;
  /** `inline`, or the converter file's absolute path. */
  origin: string;
  /** Whether applying a new source rewrites `origin` (a file); inline sources live in memory. */
  writesBack: boolean;
  /** Version of the running converter (1, then +1 per replace); absent when not running. */
  version?: number;
}

/** The sources of an integration's converters. */
export interface ConverterSources {
  uplink: ConverterSourceView;
  downlink?: ConverterSourceView;
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
  /** When failed instances are restarted; default `DEFAULT_RESTART_POLICY`. */
  restartPolicy?: RestartPolicy;
  /** Counts the restarts the host makes (already labelled with the instance). */
  restarts?: Counter;
  /** The platform's log of stored records, which exports read (the embedded platform, when some integration exports). */
  recordLog?: StoredRecordLog;
  /** The host's metrics, for exports. */
  metrics?: Metrics;
}

/** A converter an instance compiles: its uplink and downlink converters, and its export's encoder. */
type SourceKind = ConverterKind | 'export';

const SEVERITY: Record<IntegrationHealth['status'], number> = { up: 0, starting: 1, degraded: 2, stopped: 3, down: 4 };

/**
 * One configured integration: builds its child container and context, starts and stops the
 * plugin's `Integration`, and reports its status. Start and stop calls are serialised, and every
 * start builds everything afresh (converters are re-read from their files).
 *
 * An instance that should run and fails — its start rejects, or its plugin reports `down` for
 * `downTimeoutMs` — goes to `failed` and is started again after a backoff, for as long as it
 * should run: `stop()` (the API, shutdown) ends the retries.
 */
export class IntegrationInstance implements RoutableInstance {
  readonly name: string;
  readonly type: string;
  desired: 'running' | 'stopped';
  private state: InstanceState = 'stopped';
  private error: string | undefined;
  private router: HttpRouter | undefined;
  private running:
    | {
        integration: Integration;
        channel: IntegrationChannel;
        converters: Array<UplinkConverter | DownlinkConverter>;
        abort: AbortController;
        export?: RecordExport;
      }
    | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly logger: Logger;
  private readonly policy: RestartPolicy;
  private readonly schedule: RestartSchedule;
  /** False from `stop()` until the next `start()`: no restart may be planned meanwhile. */
  private restartAllowed = true;
  private readonly watchdog: DownWatchdog;
  /** Sources applied through the API over inline converters (file converters are written back instead). */
  private readonly sourceOverrides: Partial<Record<ConverterKind, string>> = {};

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
    this.policy = deps.restartPolicy ?? DEFAULT_RESTART_POLICY;
    this.schedule = new RestartSchedule(this.policy);
    this.watchdog = new DownWatchdog({ timeoutMs: this.policy.downTimeoutMs, intervalMs: this.policy.checkIntervalMs });
  }

  liveRouter(): HttpRouter | undefined {
    return this.state === 'running' ? this.router : undefined;
  }

  /** What `tbi replay` reads through while the instance runs (see `ReplayJobs`). */
  replayTarget(): ReplayTarget | ReplayUnavailable {
    const running = this.state === 'running' ? this.running : undefined;
    if (!running) return 'not-running';
    const { integration, channel, abort } = running;
    if (typeof integration.replay !== 'function') return 'unsupported';
    return { replay: (request) => integration.replay!(request), channel, signal: abort.signal };
  }

  wantsToRun(): boolean {
    return this.desired === 'running';
  }

  /**
   * Starts the instance now (a planned restart is dropped, the failure count starts over); never
   * rejects: a failure is kept in the status, logged, and retried later.
   */
  start(): Promise<void> {
    this.desired = 'running';
    this.restartAllowed = true;
    this.schedule.reset();
    return this.serialise(() => this.doStart());
  }

  /** Stops the instance and releases its in-flight work, and ends restarts; never rejects. */
  stop(options: { keepDesired?: boolean } = {}): Promise<void> {
    if (!options.keepDesired) this.desired = 'stopped';
    this.restartAllowed = false;
    this.schedule.cancel();
    return this.serialise(() => this.doStop());
  }

  /**
   * Re-reads the converter files and swaps the new sources into the running converters
   * (`converter.replace`: batches in progress finish on the old version; the connector and its
   * connection stay as they are). A source that cannot be read or does not compile leaves the
   * running converter in place and rejects with the reason. An instance that is not running is
   * started instead, which reads the files anyway.
   */
  reloadConverters(): Promise<'replaced' | 'started'> {
    let outcome: 'replaced' | 'started' = 'replaced';
    const step = async () => {
      const running = this.running;
      if (this.state !== 'running' || running === undefined) {
        outcome = 'started';
        this.desired = 'running';
        return this.doStart();
      }
      const kinds = this.sourceKinds();
      // Every file is read before anything is swapped, so a missing one changes nothing.
      const sources = await Promise.all(kinds.map((kind) => this.loadConverter(kind)));
      for (const [i, converter] of running.converters.entries()) {
        const loaded = sources[i];
        if (loaded) await converter.replace(loaded.source);
      }
      this.logger.info({ converters: running.converters.map((c) => c.name) }, 'converters reloaded');
    };
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next.then(() => outcome);
  }

  /** The converters this instance compiles, in the order of `running.converters`. */
  private sourceKinds(): SourceKind[] {
    return ['uplink', ...(this.entry.downlinkConverter ? (['downlink'] as const) : []), ...(this.entry.export ? (['export'] as const) : [])];
  }

  /** The sources the converters run now (or would run at the next start), and where they come from. */
  async converterSources(): Promise<ConverterSources> {
    const view = async (kind: ConverterKind): Promise<ConverterSourceView> => {
      const { source, origin } = await this.loadConverter(kind);
      const version = this.running?.converters[kind === 'uplink' ? 0 : 1]?.version;
      return { source, origin, writesBack: origin !== 'inline', ...(version === undefined ? {} : { version }) };
    };
    return { uplink: await view('uplink'), ...(this.entry.downlinkConverter ? { downlink: await view('downlink') } : {}) };
  }

  /**
   * Runs `source` as the integration's uplink or downlink converter from now on. Atomic: the new
   * source is compiled before anything changes (`converter.replace`; batches in progress finish
   * on the old version), and a file-based converter's file is replaced only once the swap has
   * succeeded. An inline converter is kept in memory (a restart keeps it; `tbi.yaml` is not
   * rewritten). A stopped or failed instance is started with the new source. Rejects with the
   * compile error, leaving everything as it was.
   */
  applyConverter(kind: ConverterKind, source: string): Promise<{ applied: 'replaced' | 'started'; file?: string }> {
    let outcome: { applied: 'replaced' | 'started'; file?: string } = { applied: 'replaced' };
    const step = async () => {
      const spec = kind === 'uplink' ? this.entry.uplinkConverter : this.entry.downlinkConverter;
      if (!spec) {
        throw new PluginError('NO_DOWNLINK_CONVERTER', `integration "${this.name}" has no downlink converter in its config`, {
          context: { integration: this.name },
        });
      }
      const running = this.state === 'running' ? this.running : undefined;
      const converter = running?.converters[kind === 'uplink' ? 0 : 1];
      const staged = spec.file === undefined ? undefined : await stageConverterFile(path.resolve(this.deps.baseDir, spec.file), kind, source);
      try {
        if (converter) await converter.replace(source);
        else await this.checkCompiles(kind, source);
      } catch (error) {
        await staged?.discard();
        throw error;
      }
      if (staged) await staged.commit();
      else this.sourceOverrides[kind] = source;
      outcome = staged ? { applied: 'replaced', file: staged.file } : { applied: 'replaced' };
      this.logger.info({ converter: kind, file: staged?.file, version: converter?.version }, `${kind} converter applied`);
      if (!converter) {
        outcome = { ...outcome, applied: 'started' };
        this.desired = 'running';
        this.restartAllowed = true;
        this.schedule.reset();
        await this.doStart();
      }
    };
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next.then(() => outcome);
  }

  /** Compiles a source once in the sandbox, for an instance that has no converter running. */
  private async checkCompiles(kind: ConverterKind, source: string): Promise<void> {
    const limits = { ...this.deps.converterLimits, ...this.entry.converterLimits };
    const name = `${this.name}/${kind}-check`;
    const compiled = kind === 'uplink' ? await this.deps.sandbox.uplink(name, source, limits) : await this.deps.sandbox.downlink(name, source, limits);
    await compiled.dispose();
  }

  /** A converter's source: the one applied in memory over an inline source, else the config's. */
  private loadConverter(kind: SourceKind): Promise<{ source: string; origin: string }> {
    if (kind === 'export') return this.deps.loadSource(this.entry.export!.converter, 'downlink', this.deps.baseDir);
    const override = this.sourceOverrides[kind];
    if (override !== undefined) return Promise.resolve({ source: override, origin: 'inline' });
    const spec = kind === 'uplink' ? this.entry.uplinkConverter : this.entry.downlinkConverter;
    if (!spec) return Promise.reject(new PluginError('NO_DOWNLINK_CONVERTER', `integration "${this.name}" has no downlink converter in its config`));
    return this.deps.loadSource(spec, kind, this.deps.baseDir);
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
      ...this.restartStatus(),
      ...(this.running?.export ? { export: this.running.export.status() } : {}),
    };
  }

  private restartStatus(): Pick<InstanceStatus, 'restart'> {
    const pending = this.schedule.pending();
    return pending ? { restart: { attempt: pending.attempt, at: new Date(pending.at).toISOString(), cause: pending.cause } } : {};
  }

  /** The plugin's own health; a `health()` that throws counts as `down`. */
  private pluginHealth(integration: Integration): IntegrationHealth {
    try {
      return integration.health();
    } catch (cause) {
      return { status: 'down', detail: `health() threw: ${(cause as Error).message}` };
    }
  }

  private health(): IntegrationHealth {
    switch (this.state) {
      case 'running': {
        // The plugin knows its connection; the channel knows the platform (degraded while it
        // fails). The worse of the two is the instance's health.
        const own = this.pluginHealth(this.running!.integration);
        const channel = this.running!.channel.health();
        // A message of this integration that ended its converter process: degraded for a while.
        const sandbox = this.deps.sandbox.integrationHealth?.(this.name);
        const worst = SEVERITY[channel.status] > SEVERITY[own.status] ? channel : own;
        return sandbox !== undefined && SEVERITY[sandbox.status] > SEVERITY[worst.status] ? sandbox : worst;
      }
      case 'starting': {
        const restart = this.schedule.describeCurrent();
        return restart ? { status: 'starting', detail: restart } : { status: 'starting' };
      }
      case 'failed':
        return { status: 'down', detail: this.schedule.describe() ?? this.error };
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
      const uplinkSource = await this.loadConverter('uplink');
      const uplink = await deps.sandbox.uplink(`${entry.name}/uplink`, uplinkSource.source, limits);
      converters.push(uplink);
      let downlink: DownlinkConverter | undefined;
      if (entry.downlinkConverter) {
        const downlinkSource = await this.loadConverter('downlink');
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
      const recordExport = entry.export ? await this.openExport(integration, converters, limits) : undefined;
      this.running = { integration, channel, converters, abort, ...(recordExport ? { export: recordExport } : {}) };
      recordExport?.start();
      this.state = 'running';
      this.schedule.markUp();
      const live = integration;
      this.watchdog.start(
        () => this.pluginHealth(live),
        (cause) => void this.serialise(() => this.failRunning(live, cause)),
      );
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
      await this.release(integration, channel, converters);
      this.fail(`failed to start: ${reason}`, { plugin: pkg, err: cause }, error.message);
    }
  }

  /** Builds the instance's event export: its encoder joins `converters` (disposed and reloaded with them). */
  private async openExport(integration: Integration, converters: Array<UplinkConverter | DownlinkConverter>, limits: SandboxLimits): Promise<RecordExport> {
    const { entry, deps } = this;
    const settings = entry.export!;
    const log = deps.recordLog;
    if (!log)
      throw new PluginError('EXPORT_UNAVAILABLE', 'the platform keeps no log of stored records (exports need the embedded platform)', {
        context: { integration: this.name },
      });
    if (typeof integration.send !== 'function') {
      throw new PluginError('EXPORT_UNAVAILABLE', `the ${this.type} connector cannot send messages, so it cannot export`, {
        context: { integration: this.name },
      });
    }
    const source = await this.loadConverter('export');
    const encoder = await deps.sandbox.downlink(`${entry.name}/export`, source.source, limits);
    converters.push(encoder);
    return new RecordExport({
      name: entry.name,
      log,
      send: (downlink) => integration.send!(downlink),
      converter: () => encoder,
      integrationMetadata: entry.metadata,
      settings,
      logger: this.logger.child({ component: 'export' }),
      metrics: deps.metrics!,
    });
  }

  /**
   * Marks the instance failed and plans its restart if it should still run. Logged at WARN: a
   * failing integration is expected to recover (ERROR would page someone at every attempt).
   */
  private fail(cause: string, fields: Record<string, unknown>, message: string): void {
    this.state = 'failed';
    if (!this.restartAllowed || this.desired !== 'running') {
      this.logger.warn(fields, message);
      return;
    }
    const pending = this.schedule.schedule(cause, () => this.restartNow());
    const inMs = Math.max(0, pending.at - Date.now());
    this.logger.warn(
      { ...fields, restart: { attempt: pending.attempt, inMs } },
      `${message}; restarting in ${Math.ceil(inMs / 1000)} s (attempt ${pending.attempt})`,
    );
  }

  private restartNow(): void {
    if (!this.restartAllowed || this.desired !== 'running') return;
    this.deps.restarts?.inc();
    void this.serialise(() => this.doStart());
  }

  /** Stops a running instance that failed on its way, then plans its restart. */
  private async failRunning(integration: Integration, cause: string): Promise<void> {
    const running = this.running;
    if (this.state !== 'running' || running === undefined || running.integration !== integration) return;
    this.state = 'stopping';
    running.abort.abort();
    await running.export?.stop();
    await this.release(running.integration, running.channel, running.converters);
    this.running = undefined;
    this.router = undefined;
    const pkg = `${this.plugin.info.packageName} ${this.plugin.info.version}`;
    this.error = `integration "${this.name}" (plugin ${pkg}) failed: ${cause}`;
    this.fail(cause, { plugin: pkg }, this.error);
  }

  private async doStop(): Promise<void> {
    const running = this.running;
    if (this.state !== 'running' || running === undefined) {
      if (this.state === 'failed' && this.desired === 'stopped') this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.watchdog.stop();
    this.logger.info({}, 'stopping integration');
    running.abort.abort();
    await running.export?.stop();
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
