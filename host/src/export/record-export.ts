import {
  Backoff,
  isShutdownError,
  PluginError,
  sleep,
  type Counter,
  type DownlinkConverter,
  type Gauge,
  type Logger,
  type Metadata,
  type Metrics,
  type OutboundDownlink,
  type StoredRecordLog,
} from '@tbi/plugin-api';
import { downlinkPayload } from '../pipeline/downlink-path.js';
import { exportRequests, type ExportFilter, type ExportRequest } from './export-requests.js';

/** Settings of one integration's export (the `export` block of its config entry). */
export interface ExportSettings extends ExportFilter {
  /** Log entries read and published per round (default 500). */
  batchSize?: number;
  /**
   * What a message the encoder fails on does: `stop` (default) keeps the export at that entry,
   * retrying with backoff until the converter is fixed (`tbi reload`); `skip` counts it and goes on.
   */
  errors?: 'stop' | 'skip';
}

/** What `/api/integrations` shows of an export. */
export interface ExportStatus {
  state: 'running' | 'retrying' | 'stopped';
  /** The last log entry published and committed. */
  cursor: number;
  /** The newest entry in the log. */
  head: number;
  /** Entries waiting: `head - cursor`. */
  lag: number;
  /** Messages published since the integration started. */
  sent: number;
  /** Messages the encoder failed on and that were skipped (`errors: skip`). */
  skipped: number;
  /** Why it retries. */
  detail?: string;
}

export interface RecordExportDeps {
  /** The integration (and export reader) name. */
  name: string;
  log: StoredRecordLog;
  send: (downlink: OutboundDownlink) => Promise<void>;
  /** The export's encoder (a downlink converter). */
  converter: () => DownlinkConverter;
  integrationMetadata: Metadata;
  settings: ExportSettings;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Publishes every record the platform stores through one integration's connector (event export):
 * reads the platform's record log after this export's cursor, encodes each entry with the export's
 * converter, sends the messages (in log order, so a device's events stay in order; keyed by device
 * name unless the encoder sets a key) and commits the cursor only once the broker confirmed every
 * one of them. At least once: a host killed before the commit publishes that round again. A
 * failed send is retried from the cursor with backoff — the broker being slow or away holds the
 * export (back-pressure), and the lag grows in `tbi_export_lag_records`.
 */
export class RecordExport {
  readonly #d: RecordExportDeps;
  readonly #abort = new AbortController();
  readonly #backoff = new Backoff({ initialDelayMs: 200, maxDelayMs: 10_000 });
  readonly #sentTotal: Counter;
  readonly #skippedTotal: Counter;
  readonly #lag: Gauge;
  #cursor: number;
  #state: ExportStatus['state'] = 'running';
  #detail: string | undefined;
  #sent = 0;
  #skipped = 0;
  #done: Promise<void> | undefined;

  constructor(deps: RecordExportDeps) {
    this.#d = deps;
    this.#cursor = deps.log.cursor(deps.name);
    this.#sentTotal = deps.metrics.counter('tbi_export_messages_total', 'Messages an export published and the broker confirmed.', ['integration']);
    this.#skippedTotal = deps.metrics.counter('tbi_export_skipped_total', 'Messages an export skipped because its encoder failed on them (errors: skip).', [
      'integration',
    ]);
    this.#lag = deps.metrics.gauge('tbi_export_lag_records', 'Stored records an export has not published yet.', ['integration']);
  }

  start(): void {
    this.#done ??= this.#loop().catch((error: unknown) => {
      if (!this.#abort.signal.aborted) this.#d.logger.error({ err: error }, 'the export stopped on an unexpected error');
    });
    this.#d.logger.info({ cursor: this.#cursor, head: this.#d.log.head() }, `export started after log entry ${this.#cursor}`);
  }

  /** Stops after the round in progress is abandoned (not committed: it is published again next time). */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#done;
    this.#state = 'stopped';
  }

  status(): ExportStatus {
    const head = this.#d.log.head();
    return {
      state: this.#state,
      cursor: this.#cursor,
      head,
      lag: Math.max(0, head - this.#cursor),
      sent: this.#sent,
      skipped: this.#skipped,
      ...(this.#detail ? { detail: this.#detail } : {}),
    };
  }

  async #loop(): Promise<void> {
    const { log, settings, name } = this.#d;
    const signal = this.#abort.signal;
    const labels = { integration: name };
    while (!signal.aborted) {
      const entries = log.read(this.#cursor, settings.batchSize ?? 500);
      this.#lag.set(labels, Math.max(0, log.head() - this.#cursor));
      if (entries.length === 0) {
        await log.waitFor(this.#cursor, signal);
        continue;
      }
      const last = entries[entries.length - 1]!.seq;
      try {
        const requests = entries.flatMap((e) => exportRequests(e, settings, this.#d.integrationMetadata));
        // A stop does not wait for the broker: the round is abandoned (not committed) and its
        // sends settle on their own.
        const sent = await Promise.race([this.#publish(requests), this.#stopped()]);
        if (signal.aborted) return;
        await log.commit(name, last);
        this.#cursor = last;
        this.#sent += sent;
        this.#sentTotal.inc(labels, sent);
        if (this.#state === 'retrying') this.#d.logger.info({ cursor: last }, 'export recovered');
        this.#state = 'running';
        this.#detail = undefined;
        this.#backoff.reset();
      } catch (error) {
        if (signal.aborted || isShutdownError(error)) return;
        const message = error instanceof Error ? error.message : String(error);
        const delay = this.#backoff.next();
        this.#state = 'retrying';
        this.#detail = `${message}; retrying entries after ${this.#cursor} in ${Math.ceil(delay / 1000)} s`;
        this.#d.logger.warn({ err: error, cursor: this.#cursor, attempt: this.#backoff.attempt }, `export failed: ${this.#detail}`);
        await sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  /** Resolves with 0 when the export is stopped. */
  #stopped(): Promise<number> {
    const signal = this.#abort.signal;
    return new Promise((resolve) => {
      if (signal.aborted) resolve(0);
      else signal.addEventListener('abort', () => resolve(0), { once: true });
    });
  }

  /** Encodes and sends one round, every send issued in log order; resolves with the messages sent. */
  async #publish(requests: ExportRequest[]): Promise<number> {
    if (requests.length === 0) return 0;
    const results = await this.#d.converter().run(requests.map((r) => r.request));
    const sends: Promise<void>[] = [];
    results.forEach((result, i) => {
      const { seq, deviceName, deviceType } = requests[i]!;
      if (!result.ok) {
        if (this.#d.settings.errors === 'skip') {
          this.#skipped++;
          this.#skippedTotal.inc({ integration: this.#d.name });
          this.#d.logger.warn({ seq, deviceName, error: result.error }, `export encoder failed on log entry ${seq}; skipped`);
          return;
        }
        throw new PluginError('EXPORT_ENCODE_FAILED', `the export encoder failed on log entry ${seq} (${deviceName}): ${result.error.message}`, {
          context: { integration: this.#d.name, seq, deviceName, error: result.error },
        });
      }
      // Keyed by device, so a device's events stay in one partition, in order.
      const encoded =
        result.encoded.metadata.key === undefined ? { ...result.encoded, metadata: { ...result.encoded.metadata, key: deviceName } } : result.encoded;
      sends.push(this.#d.send({ commandId: `export-${seq}-${i}`, deviceName, deviceType, encoded, payload: downlinkPayload(encoded) }));
    });
    // Every send is awaited (no rejection left unhandled) before the round fails or commits.
    const settled = await Promise.allSettled(sends);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return sends.length;
  }
}
