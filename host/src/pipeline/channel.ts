import type {
  DownlinkConverter,
  Integration,
  IntegrationHealth,
  Metadata,
  PendingDownlinks,
  PlatformCommand,
  RawMessage,
  UplinkConverter,
  UplinkOutcome,
  UplinkService,
} from '@tbi/plugin-api';
import { DebugRing, type DebugMode } from '../debug-events/debug-ring.js';
import { BackPressure } from './back-pressure.js';
import { DownlinkPath } from './downlink-path.js';
import type { PipelineShared } from './pipeline-shared.js';
import { UplinkEngine, type BatchOptions } from './uplink-engine.js';
import { integrationLabels } from './pipeline-metrics.js';

/** What the host passes to `Pipeline.attach` for one integration instance. */
export interface AttachOptions {
  name: string;
  type: string;
  /** The integration's own key/values; converters see them under each message's metadata. */
  metadata: Metadata;
  uplink: UplinkConverter;
  downlink?: DownlinkConverter;
  /** The plugin's `downlink` kind. */
  downlinkMode: 'push' | 'pull' | 'none';
  /** Messages in flight at which the integration is paused (default 10 000). */
  maxInFlight?: number;
  /** In-flight count at which a paused integration resumes (default half of `maxInFlight`). */
  resumeAt?: number;
  debug?: { mode: DebugMode; size?: number };
  batch?: BatchOptions;
}

/** A snapshot of a channel, for the host's status API. */
export interface ChannelStatus {
  name: string;
  type: string;
  health: IntegrationHealth;
  /** Submitted messages without an outcome yet. */
  inFlight: number;
  /** Of those, waiting for the converter. */
  queued: number;
  maxInFlight: number;
  paused: boolean;
  /** Failed platform attempts in a row (0 when the platform is fine). */
  storeRetries: number;
  debug: { mode: DebugMode; size: number };
  converters: { uplink: { name: string; version: number }; downlink?: { name: string; version: number } };
  /** Pull mode: devices with downlinks waiting. */
  pendingDownlinkDevices: number;
}

/**
 * The pipeline as one integration instance sees it. The host puts `uplink` and `downlinks` into
 * the integration's context, calls `bind` with the instance `create` returned, and `detach` after
 * the instance has stopped.
 */
export interface IntegrationChannel {
  readonly name: string;
  /** `ctx.uplink` of the integration. */
  readonly uplink: UplinkService;
  /** `ctx.downlinks` of the integration (pull mode). */
  readonly downlinks: PendingDownlinks;
  /** Gives the channel the running instance: for pause/resume and push downlinks. */
  bind(integration: Integration): void;
  /** Stores messages replayed from the source's history over what is stored (see `Channel.replayHistory`). */
  replayHistory(messages: readonly RawMessage[]): Promise<UplinkOutcome[]>;
  /** `degraded` while the platform keeps failing, else `up`; the host merges it with the plugin's own. */
  health(): IntegrationHealth;
  status(): ChannelStatus;
  /**
   * Stops the channel: new submits are refused; with `graceMs`, messages in flight get that long
   * to be stored (a clean stop without redeliveries); then open submits reject with
   * `ShutdownError` (never acknowledged), platform retries stop, waiting pull downlinks fail.
   * Resolves when the batch in progress has returned. Converters are not disposed: they belong
   * to the caller. Call it together with `Integration.stop()` (not after it): a connector whose
   * stop waits for its handlers would otherwise wait for ever while the platform is down.
   */
  detach(options?: { graceMs?: number }): Promise<void>;
}

/** The channel implementation, with what the pipeline itself needs (replay, downlinks). */
export class Channel implements IntegrationChannel {
  readonly name: string;
  readonly uplink: UplinkService;
  readonly downlinks: PendingDownlinks;
  readonly ring: DebugRing;
  readonly #options: AttachOptions;
  readonly #engine: UplinkEngine;
  readonly #downlink: DownlinkPath;
  readonly #pressure: BackPressure;
  readonly #shared: PipelineShared;
  #uplinkConverter: UplinkConverter;
  #downlinkConverter: DownlinkConverter | undefined;
  #integration: Integration | undefined;
  #degraded: string | undefined;
  #detached: Promise<void> | undefined;
  readonly #onDetached: () => void;

  constructor(options: AttachOptions, shared: PipelineShared, onDetached: () => void) {
    this.name = options.name;
    this.#options = options;
    this.#shared = shared;
    this.#uplinkConverter = options.uplink;
    this.#downlinkConverter = options.downlink;
    const labels = integrationLabels(options.name);
    const logger = shared.logger.child({ integration: options.name });
    this.ring = new DebugRing(options.name, options.debug);
    const high = options.maxInFlight ?? 10_000;
    this.#pressure = new BackPressure(high, options.resumeAt ?? Math.floor(high / 2), (paused, inFlight) => {
      shared.metrics.paused.set(labels, paused ? 1 : 0);
      logger.info(
        { integration: this.name, inFlight, limit: high },
        paused ? 'pipeline full: pausing the integration' : 'pipeline drained: resuming the integration',
      );
      this.#pauseOrResume(paused);
    });
    this.#engine = new UplinkEngine({
      name: options.name,
      metadata: () => this.#options.metadata,
      converter: () => this.#uplinkConverter,
      platform: shared.platform,
      deadLetters: shared.deadLetters,
      ring: this.ring,
      metrics: shared.metrics,
      labels,
      logger,
      clock: shared.clock,
      retry: shared.retry,
      batch: options.batch ?? shared.batch,
      pressure: this.#pressure,
      onDegraded: (detail) => {
        this.#degraded = detail;
      },
    });
    this.#downlink = new DownlinkPath({
      name: options.name,
      mode: options.downlinkMode,
      metadata: () => this.#options.metadata,
      converter: () => this.#downlinkConverter,
      integration: () => this.#integration,
      platform: shared.platform,
      ring: this.ring,
      metrics: shared.metrics,
      labels,
      logger,
      clock: shared.clock,
      options: shared.downlink,
    });
    this.uplink = {
      submit: (messages, submitOptions) => this.#engine.submit(messages, submitOptions),
      reject: (messages, reason) => this.#engine.reject(messages, reason),
    };
    this.downlinks = { take: (deviceName) => this.#downlink.pending.take(deviceName) };
    this.#onDetached = onDetached;
  }

  bind(integration: Integration): void {
    this.#integration = integration;
    if (this.#pressure.paused) this.#pauseOrResume(true);
  }

  health(): IntegrationHealth {
    if (this.#detached) return { status: 'stopped' };
    if (this.#degraded) return { status: 'degraded', detail: this.#degraded };
    if (this.#pressure.paused) {
      return { status: 'up', detail: `paused by back-pressure: ${this.#pressure.inFlight} messages in flight (limit ${this.#pressure.high})` };
    }
    return { status: 'up' };
  }

  status(): ChannelStatus {
    const down = this.#downlinkConverter;
    return {
      name: this.name,
      type: this.#options.type,
      health: this.health(),
      inFlight: this.#pressure.inFlight,
      queued: this.#engine.queued,
      maxInFlight: this.#pressure.high,
      paused: this.#pressure.paused,
      storeRetries: this.#engine.retrying,
      debug: { mode: this.ring.mode, size: this.ring.size },
      converters: {
        uplink: { name: this.#uplinkConverter.name, version: this.#uplinkConverter.version },
        ...(down ? { downlink: { name: down.name, version: down.version } } : {}),
      },
      pendingDownlinkDevices: this.#downlink.pending.devices,
    };
  }

  /** Runs dead letters again through the current converter; failures come back as `failed`. */
  replay(messages: readonly RawMessage[]): Promise<UplinkOutcome[]> {
    return this.#engine.submit(messages, { deadLetters: 'caller' }, 'dead-letters');
  }

  /**
   * Runs messages read again from the source's history (`tbi replay`) through the current
   * converter and stores them over what is stored (no `sourceId` de-duplication); failures are
   * dead-lettered as live ones are.
   */
  replayHistory(messages: readonly RawMessage[]): Promise<UplinkOutcome[]> {
    return this.#engine.submit(messages, {}, 'history');
  }

  deliver(command: PlatformCommand): Promise<void> {
    if (this.#detached) {
      this.#shared.platform.commandResult(command.id, { ok: false, error: `integration ${this.name} stopped` });
      return Promise.resolve();
    }
    return this.#downlink.deliver(command);
  }

  detach(options: { graceMs?: number } = {}): Promise<void> {
    this.#detached ??= (async () => {
      try {
        await Promise.all([this.#engine.close(options.graceMs), this.#downlink.close()]);
      } finally {
        this.ring.close();
        const labels = integrationLabels(this.name);
        this.#shared.metrics.inFlight.set(labels, 0);
        this.#shared.metrics.paused.set(labels, 0);
        this.#onDetached();
      }
    })();
    return this.#detached;
  }

  #pauseOrResume(paused: boolean): void {
    const integration = this.#integration;
    if (!integration) return; // `bind` applies the state later
    try {
      if (paused) integration.pause?.();
      else integration.resume?.();
    } catch (error) {
      this.#shared.logger.error({ integration: this.name, err: error }, `integration ${paused ? 'pause' : 'resume'} threw`);
    }
  }
}
