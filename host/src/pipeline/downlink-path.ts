import {
  isShutdownError,
  retry,
  type Clock,
  type DownlinkConverter,
  type DownlinkRequest,
  type Integration,
  type Labels,
  type Logger,
  type Metadata,
  type OutboundDownlink,
  type PlatformClient,
  type PlatformCommand,
} from '@tbi/plugin-api';
import type { DebugRing } from '../debug-events/debug-ring.js';
import { PendingDownlinkQueue } from './pending-downlinks.js';
import type { PipelineMetrics } from './pipeline-metrics.js';

/** Options of the downlink side of the pipeline. */
export interface DownlinkOptions {
  /** Attempts of `Integration.send` per downlink in push mode (default 3). */
  attempts?: number;
  /** Backoff between attempts (default 500 ms doubling up to 5 s, full jitter). */
  initialMs?: number;
  maxMs?: number;
  /** Pull mode: downlinks kept per device (default 10) and devices kept (default 10 000). */
  pendingPerDevice?: number;
  pendingDevices?: number;
}

export interface DownlinkPathDeps {
  name: string;
  /** The plugin's mode: the default of an instance that does not set `downlinkMode`. */
  mode: 'push' | 'pull' | 'none';
  metadata: () => Metadata;
  converter: () => DownlinkConverter | undefined;
  integration: () => Integration | undefined;
  platform: PlatformClient;
  ring: DebugRing;
  metrics: PipelineMetrics;
  labels: Labels;
  logger: Logger;
  clock: Clock;
  options: DownlinkOptions;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Decodes what a connector sends: Base64 for BINARY, UTF-8 text otherwise. */
export function downlinkPayload(encoded: OutboundDownlink['encoded']): Uint8Array {
  return encoded.contentType === 'BINARY' ? Buffer.from(encoded.data, 'base64') : Buffer.from(encoded.data, 'utf8');
}

/**
 * The downlink side of one integration: platform command → downlink converter → the connector
 * (`send` with a few retries in push mode; a bounded per-device queue in pull mode) → the
 * command's result back to the platform.
 */
export class DownlinkPath {
  readonly pending: PendingDownlinkQueue;
  readonly #d: DownlinkPathDeps;
  readonly #abort = new AbortController();
  readonly #inProgress = new Set<Promise<void>>();

  constructor(deps: DownlinkPathDeps) {
    this.#d = deps;
    this.pending = new PendingDownlinkQueue({
      perDevice: () => deps.integration()?.downlinkPendingPerDevice ?? deps.options.pendingPerDevice,
      maxDevices: deps.options.pendingDevices,
      now: () => deps.clock.now(),
      onTaken: (outbound) => {
        deps.metrics.downlinksSent.inc(deps.labels);
        deps.platform.commandResult(outbound.commandId, { ok: true });
      },
      onDropped: (outbound, reason) => {
        deps.metrics.downlinksFailed.inc(deps.labels);
        deps.logger.warn({ integration: deps.name, commandId: outbound.commandId, deviceName: outbound.deviceName, reason }, 'pending downlink dropped');
        deps.platform.commandResult(outbound.commandId, { ok: false, error: `downlink not delivered: ${reason}` });
      },
    });
  }

  /** Delivers one platform command; never throws (the outcome goes to `platform.commandResult`). */
  deliver(command: PlatformCommand): Promise<void> {
    const work = this.#deliver(command).catch((error: unknown) => {
      this.#fail(command, isShutdownError(error) ? `integration ${this.#d.name} stopped` : messageOf(error));
    });
    this.#inProgress.add(work);
    void work.finally(() => this.#inProgress.delete(work));
    return work;
  }

  /** Stops retries, fails what waits in the pull queue, and waits for deliveries in progress. */
  async close(): Promise<void> {
    this.#abort.abort();
    this.pending.clear(`integration ${this.#d.name} stopped`);
    await Promise.allSettled([...this.#inProgress]);
  }

  async #deliver(command: PlatformCommand): Promise<void> {
    const d = this.#d;
    const converter = d.converter();
    const mode = d.integration()?.downlinkMode ?? d.mode;
    if (mode === 'none') return this.#fail(command, `integration ${d.name} does not send downlinks`);
    if (!converter) return this.#fail(command, `integration ${d.name} has no downlink converter`);
    const request: DownlinkRequest = {
      msg: command.msg,
      metadata: command.metadata,
      msgType: command.msgType,
      integrationMetadata: { ...d.metadata(), integrationName: d.name },
    };
    const started = performance.now();
    const [result] = await converter.run([request]);
    const convertMs = performance.now() - started;
    if (!result) throw new Error('the downlink converter returned no result');
    const debugIn = { msg: command.msg, msgType: command.msgType, metadata: command.metadata, deviceName: command.deviceName };
    if (!result.ok) {
      this.#fail(command, `downlink converter failed (${result.error.kind}): ${result.error.message}`);
      if (d.ring.wants(true)) {
        d.ring.record({ time: d.clock.now(), type: 'downlink', status: 'failed', in: debugIn, error: result.error, logs: result.logs, timings: { convertMs } });
      }
      return;
    }
    const outbound: OutboundDownlink = {
      commandId: command.id,
      deviceName: command.deviceName,
      ...(command.metadata.deviceType === undefined ? {} : { deviceType: command.metadata.deviceType }),
      encoded: result.encoded,
      payload: downlinkPayload(result.encoded),
    };
    if (mode === 'pull') {
      const expires = Number(command.metadata.expirationTime);
      this.pending.add(outbound, Number.isFinite(expires) && expires > 0 ? expires : undefined);
      if (d.ring.wants(false)) {
        d.ring.record({ time: d.clock.now(), type: 'downlink', status: 'queued', in: debugIn, out: result.encoded, logs: result.logs, timings: { convertMs } });
      }
      return;
    }
    const sendStarted = performance.now();
    const error = await this.#send(outbound);
    const sendMs = performance.now() - sendStarted;
    if (error === undefined) {
      d.metrics.downlinksSent.inc(d.labels);
      d.platform.commandResult(command.id, { ok: true });
    } else {
      this.#fail(command, `sending the downlink failed: ${messageOf(error)}`);
    }
    if (d.ring.wants(error !== undefined)) {
      d.ring.record({
        time: d.clock.now(),
        type: 'downlink',
        status: error === undefined ? 'sent' : 'failed',
        in: debugIn,
        out: result.encoded,
        ...(error === undefined ? {} : { error: { message: messageOf(error) } }),
        logs: result.logs,
        timings: { convertMs, sendMs },
      });
    }
  }

  /** Sends with a few retries; returns the last error, or undefined once sent. */
  async #send(outbound: OutboundDownlink): Promise<unknown> {
    const d = this.#d;
    const integration = d.integration();
    if (!integration?.send) return new Error(`integration ${d.name} is not running or cannot send downlinks`);
    try {
      const send = integration.send.bind(integration);
      // The instance's own budget (HTTP: its `downlink.retries`) wins over the host's default.
      const { attempts, ...backoff } = integration.downlinkRetry ?? {};
      await retry(() => send(outbound), {
        initialDelayMs: d.options.initialMs ?? 500,
        maxDelayMs: d.options.maxMs ?? 5000,
        ...backoff,
        signal: this.#abort.signal,
        maxAttempts: Math.max(1, attempts ?? d.options.attempts ?? 3),
        onRetry: ({ error, attempt, delayMs }) =>
          d.logger.warn({ integration: d.name, commandId: outbound.commandId, attempt, delayMs, err: error }, 'sending downlink failed; retrying'),
      });
      return undefined;
    } catch (error) {
      return error;
    }
  }

  #fail(command: PlatformCommand, error: string): void {
    this.#d.metrics.downlinksFailed.inc(this.#d.labels);
    this.#d.logger.warn({ integration: this.#d.name, commandId: command.id, deviceName: command.deviceName, error }, 'downlink failed');
    this.#d.platform.commandResult(command.id, { ok: false, error });
  }
}
