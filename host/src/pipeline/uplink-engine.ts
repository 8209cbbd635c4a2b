import {
  isRetryable,
  isShutdownError,
  PluginError,
  retry,
  ShutdownError,
  type Clock,
  type ConverterFailure,
  type IngestItem,
  type Labels,
  type Logger,
  type BackoffOptions,
  type Metadata,
  type PlatformClient,
  type RawMessage,
  type SubmitOptions,
  type UplinkConverter,
  type UplinkInput,
  type UplinkOutcome,
  type UplinkResult,
} from '@tbi/plugin-api';
import type { DeadLetterInput, DeadLetterStore } from '../dead-letters/dead-letter-store.js';
import type { DebugRing } from '../debug-events/debug-ring.js';
import { viewPayload } from '../debug-events/payload-view.js';
import type { BackPressure } from './back-pressure.js';
import type { PipelineMetrics } from './pipeline-metrics.js';
import { SubmitTicket } from './submit-ticket.js';

/** How submits are coalesced into converter batches. */
export interface BatchOptions {
  /** Most messages per converter call and ingest transaction (default 500). */
  maxMessages?: number;
  /** Most payload bytes per converter call; at least one message is always taken (default 4 MiB). */
  maxBytes?: number;
  /**
   * How long an idle pipeline waits for more messages before converting, in ms (default 0: only
   * what arrived in the same event-loop turn, plus whatever queued while the previous batch ran).
   */
  lingerMs?: number;
}

/** Where submitted messages come from (see `UplinkEngine.submit`). */
export type SubmitOrigin = 'live' | 'dead-letters' | 'history';

/** One message on its way: where its outcome goes. */
interface Job {
  message: RawMessage;
  receivedAt: number;
  caller: boolean;
  /** Stored without `sourceId` de-duplication (a replay of history overwrites what it stored). */
  rewrite: boolean;
  ticket: SubmitTicket;
  index: number;
}

interface Converted {
  jobs: Job[];
  inputs: UplinkInput[];
  results: UplinkResult[];
  convertMs: number;
}

export interface UplinkEngineDeps {
  name: string;
  metadata: () => Metadata;
  converter: () => UplinkConverter;
  platform: PlatformClient;
  deadLetters: DeadLetterStore;
  ring: DebugRing;
  metrics: PipelineMetrics;
  labels: Labels;
  logger: Logger;
  clock: Clock;
  retry: BackoffOptions;
  batch: BatchOptions;
  pressure: BackPressure;
  /** Called when the platform starts failing (with a sentence for humans) and when it recovers. */
  onDegraded(detail: string | undefined): void;
}

/** At most this many converted batches wait for the store, so conversion runs ahead only a little. */
const STORE_BACKLOG = 2;

const failureOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A connector broke the `submit` contract: a bug in the plugin, reported to it. */
function invalid(integration: string, problem: string): PluginError {
  return new PluginError('INVALID_SUBMIT', `integration ${integration}: ${problem}`, { context: { integration } });
}

/** A platform error that retrying cannot fix: the data itself is refused. */
function isRejection(error: unknown): boolean {
  return !isShutdownError(error) && !isRetryable(error);
}

/**
 * The uplink path of one integration: queue → converter batch → store (with retries) → outcomes.
 *
 * Submits that arrive while a batch is being converted queue up and form the next batch, so a
 * connector that submits one message at a time still gets batched conversion and one ingest
 * transaction per batch (group commit), without a fixed delay when the pipeline is idle.
 * Conversion of the next batch overlaps the store of the previous one; batches are stored in order.
 */
export class UplinkEngine {
  readonly #d: UplinkEngineDeps;
  readonly #queue: Job[] = [];
  readonly #store: Converted[] = [];
  readonly #open = new Set<SubmitTicket>();
  readonly #abort = new AbortController();
  #converting: Promise<void> | undefined;
  #storing: Promise<void> | undefined;
  #scheduled = false;
  #closed = false;
  #closing = false;
  #retrying = 0;

  constructor(deps: UplinkEngineDeps) {
    this.#d = deps;
  }

  /**
   * Hands messages to the pipeline; see `UplinkService.submit`. `origin` says where they come
   * from: the connector (`live`, counted as received), the dead letters, or a replay of the
   * source's history (`history`: stored without `sourceId` de-duplication, so that the current
   * converter's values overwrite what an earlier run stored at the same timestamps; dead letters
   * keep the `sourceId`, so a message that fails again stays one dead letter).
   */
  submit(messages: readonly RawMessage[], options: SubmitOptions = {}, origin: SubmitOrigin = 'live'): Promise<UplinkOutcome[]> {
    if (this.#closed || this.#closing) return Promise.reject(new ShutdownError(`integration ${this.#d.name} is stopping`));
    if (!Array.isArray(messages)) return Promise.reject(invalid(this.#d.name, 'submit takes an array of messages'));
    if (messages.length === 0) return Promise.resolve([]);
    for (const [index, m] of messages.entries()) {
      if (!(m?.payload instanceof Uint8Array)) return Promise.reject(invalid(this.#d.name, `message ${index} has no Uint8Array payload`));
      if (typeof m.metadata !== 'object' || m.metadata === null) return Promise.reject(invalid(this.#d.name, `message ${index} has no metadata object`));
    }
    const ticket = new SubmitTicket(messages.length);
    const now = this.#d.clock.now();
    const caller = options.deadLetters === 'caller';
    const rewrite = origin === 'history';
    messages.forEach((message, index) => {
      this.#queue.push({ message, receivedAt: message.receivedAt ?? now, caller, rewrite, ticket, index });
    });
    this.#open.add(ticket);
    void ticket.promise.then(
      () => this.#open.delete(ticket),
      () => this.#open.delete(ticket),
    );
    if (origin === 'live') this.#d.metrics.received.inc(this.#d.labels, messages.length);
    this.#d.pressure.add(messages.length);
    this.#d.metrics.inFlight.set(this.#d.labels, this.#d.pressure.inFlight);
    this.#schedule();
    return ticket.promise;
  }

  /** Platform attempts that failed in a row (0 when healthy). */
  get retrying(): number {
    return this.#retrying;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Stops: new submits are refused at once; those in flight get up to `graceMs` to be stored;
   * then every open submit rejects with `ShutdownError` (so nothing more is acknowledged),
   * retries stop, and the promise resolves once the batch in progress (if any) has returned.
   */
  async close(graceMs = 0): Promise<void> {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    if (graceMs > 0 && this.#open.size > 0) {
      // Let what is in flight finish (new submits are refused meanwhile), up to `graceMs`.
      let timer: NodeJS.Timeout | undefined;
      const settled = Promise.allSettled([...this.#open].map((t) => t.promise));
      await Promise.race([settled, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    this.#closed = true;
    this.#abort.abort();
    const error = new ShutdownError(`integration ${this.#d.name} stopped before these messages were stored`);
    for (const ticket of this.#open) ticket.fail(error);
    this.#queue.length = 0;
    this.#store.length = 0;
    await Promise.allSettled([this.#converting, this.#storing]);
  }

  #schedule(): void {
    if (this.#scheduled || this.#converting || this.#closed) return;
    this.#scheduled = true;
    const run = (): void => {
      this.#scheduled = false;
      this.#pump();
    };
    const { lingerMs = 0, maxMessages = 500 } = this.#d.batch;
    if (lingerMs > 0 && this.#queue.length < maxMessages) setTimeout(run, lingerMs);
    else setImmediate(run);
  }

  #pump(): void {
    if (this.#closed || this.#converting || this.#queue.length === 0) return;
    if (this.#store.length >= STORE_BACKLOG) return; // the store stage will pump when it catches up
    const batch = this.#take();
    this.#converting = this.#convert(batch).then(
      (converted) => {
        this.#converting = undefined;
        if (this.#closed) return;
        this.#store.push(converted);
        this.#drainStore();
        if (this.#queue.length > 0) this.#schedule();
      },
      (error: unknown) => {
        // A bug, not a bad message (those become dead letters): fail the batch, keep the stream.
        this.#converting = undefined;
        this.#d.logger.error({ integration: this.#d.name, err: error }, 'preparing an uplink batch failed unexpectedly');
        this.#release(batch.length);
        for (const job of batch) job.ticket.fail(error);
        if (this.#queue.length > 0) this.#schedule();
      },
    );
  }

  #take(): Job[] {
    const { maxMessages = 500, maxBytes = 4 * 1024 * 1024 } = this.#d.batch;
    let count = 0;
    let bytes = 0;
    while (count < this.#queue.length && count < maxMessages) {
      const size = this.#queue[count]!.message.payload.byteLength;
      if (count > 0 && bytes + size > maxBytes) break;
      bytes += size;
      count++;
    }
    return this.#queue.splice(0, count);
  }

  async #convert(jobs: Job[]): Promise<Converted> {
    const base: Metadata = { ...this.#d.metadata(), integrationName: this.#d.name };
    const inputs = jobs.map((job) => ({
      payload: job.message.payload,
      metadata: { ...base, ...job.message.metadata },
      receivedAt: job.receivedAt,
    }));
    const started = performance.now();
    let results: UplinkResult[];
    try {
      results = await this.#d.converter().run(inputs);
      if (results.length !== inputs.length) {
        throw new Error(`the converter returned ${results.length} results for ${inputs.length} messages`);
      }
    } catch (error) {
      // `run` never throws for a bad message; this is the sandbox itself failing. The messages are
      // kept as dead letters (replayable) rather than blocking the stream.
      this.#d.logger.error({ integration: this.#d.name, err: error, messages: jobs.length }, 'uplink converter call failed');
      const failure: ConverterFailure = { kind: 'THREW', message: `converter call failed: ${failureOf(error)}` };
      results = inputs.map(() => ({ ok: false, error: failure, logs: [] }));
    }
    const convertMs = performance.now() - started;
    this.#d.metrics.conversionSeconds.observe(this.#d.labels, convertMs / 1000);
    return { jobs, inputs, results, convertMs };
  }

  #drainStore(): void {
    if (this.#storing || this.#closed) return;
    const next = this.#store[0];
    if (!next) return;
    this.#storing = this.#commit(next)
      .catch((error: unknown) => {
        // Only a shutdown ends a commit without outcomes; its tickets were failed by `close`.
        if (!isShutdownError(error)) {
          this.#d.logger.error({ integration: this.#d.name, err: error }, 'uplink batch failed unexpectedly');
          this.#release(next.jobs.length);
          for (const job of next.jobs) job.ticket.fail(error);
        }
      })
      .finally(() => {
        this.#storing = undefined;
        this.#store.shift();
        if (this.#closed) return;
        this.#drainStore();
        this.#schedule();
      });
  }

  /** Stores one converted batch (retrying until it works or the engine closes), then settles it. */
  async #commit(batch: Converted): Promise<void> {
    const { jobs, results } = batch;
    const failures = new Map<number, ConverterFailure>();
    const toIngest: number[] = [];
    results.forEach((result, i) => {
      if (!result.ok) failures.set(i, result.error);
      else if (result.records.length > 0 || (jobs[i]!.message.sourceId !== undefined && !jobs[i]!.rewrite)) toIngest.push(i);
    });
    this.#d.metrics.converted.inc(this.#d.labels, jobs.length - failures.size);

    const started = performance.now();
    const rejected = await this.#ingest(toIngest, batch);
    const storeMs = performance.now() - started;
    for (const [i, error] of rejected) failures.set(i, error);

    const letters: DeadLetterInput[] = [];
    for (const [i, error] of failures) {
      const job = jobs[i]!;
      if (job.caller) continue;
      const letter: DeadLetterInput = { integration: this.#d.name, payload: job.message.payload, metadata: job.message.metadata, error };
      if (job.message.sourceId !== undefined) letter.sourceId = job.message.sourceId;
      letter.receivedAt = job.receivedAt;
      letters.push(letter);
    }
    if (letters.length > 0) await this.#writeDeadLetters(letters);

    const stored = jobs.length - failures.size;
    if (stored > 0) this.#d.metrics.stored.inc(this.#d.labels, stored);
    if (failures.size > 0) this.#d.metrics.failed.inc(this.#d.labels, failures.size);
    // Release before settling, so a paused source is resumed by the time its submits resolve.
    this.#release(jobs.length);
    jobs.forEach((job, i) => {
      const failure = failures.get(i);
      const result = results[i]!;
      const outcome: UplinkOutcome =
        failure === undefined
          ? { status: 'stored', records: result.ok ? result.records : [] }
          : { status: job.caller ? 'failed' : 'dead-lettered', error: failure };
      job.ticket.settle(job.index, outcome);
      if (this.#d.ring.wants(failure !== undefined)) this.#debug(batch, i, outcome, storeMs);
    });
  }

  /**
   * Ingests the given messages' records in one call, retrying platform failures for ever. A
   * rejection of the data itself (non-retryable `DeliveryError`) is narrowed down by halving the
   * batch, so only the offending messages fail. Returns those, by batch index.
   */
  async #ingest(indexes: number[], batch: Converted): Promise<Map<number, ConverterFailure>> {
    const rejected = new Map<number, ConverterFailure>();
    if (indexes.length === 0) return rejected;
    const items: IngestItem[] = indexes.map((i) => {
      const result = batch.results[i] as Extract<UplinkResult, { ok: true }>;
      const item: IngestItem = { integration: this.#d.name, records: result.records };
      const job = batch.jobs[i]!;
      if (job.message.sourceId !== undefined && !job.rewrite) item.sourceId = job.message.sourceId;
      return item;
    });
    try {
      await retry(
        async () => {
          const started = performance.now();
          try {
            await this.#d.platform.ingest(items);
          } finally {
            this.#d.metrics.storeSeconds.observe(this.#d.labels, (performance.now() - started) / 1000);
          }
        },
        {
          ...this.#d.retry,
          signal: this.#abort.signal,
          retryIf: (error) => !isRejection(error),
          onRetry: ({ error, attempt, delayMs }) => {
            this.#retrying = attempt;
            this.#d.metrics.storeRetries.inc(this.#d.labels);
            const detail = `platform unavailable, retrying (attempt ${attempt}): ${failureOf(error)}`;
            this.#d.onDegraded(detail);
            this.#d.logger.warn({ integration: this.#d.name, attempt, delayMs, messages: items.length, err: error }, 'platform ingest failed; retrying');
          },
        },
      );
    } catch (error) {
      if (!isRejection(error)) throw error;
      if (indexes.length === 1) {
        rejected.set(indexes[0]!, { kind: 'INVALID_OUTPUT', message: `the platform rejected the records: ${failureOf(error)}` });
        return rejected;
      }
      const half = Math.ceil(indexes.length / 2);
      for (const part of [indexes.slice(0, half), indexes.slice(half)]) {
        for (const [i, failure] of await this.#ingest(part, batch)) rejected.set(i, failure);
      }
      return rejected;
    }
    if (this.#retrying > 0) {
      this.#d.logger.info({ integration: this.#d.name, attempts: this.#retrying + 1 }, 'platform ingest succeeded again');
      this.#retrying = 0;
      this.#d.onDegraded(undefined);
    }
    return rejected;
  }

  /** Dead-letters messages the connector refused before conversion; resolves once they are durable. */
  async reject(messages: readonly RawMessage[], reason: string): Promise<void> {
    if (messages.length === 0) return;
    const receivedAt = this.#d.clock.now();
    const letters = messages.map((message): DeadLetterInput => {
      const letter: DeadLetterInput = {
        integration: this.#d.name,
        payload: message.payload,
        metadata: message.metadata,
        error: { kind: 'REJECTED', message: reason },
        receivedAt: message.receivedAt ?? receivedAt,
      };
      if (message.sourceId !== undefined) letter.sourceId = message.sourceId;
      return letter;
    });
    this.#d.metrics.received.inc(this.#d.labels, messages.length);
    this.#d.metrics.failed.inc(this.#d.labels, messages.length);
    await this.#writeDeadLetters(letters);
  }

  async #writeDeadLetters(letters: DeadLetterInput[]): Promise<void> {
    const { dropped } = await retry(async () => this.#d.deadLetters.add(letters), {
      ...this.#d.retry,
      signal: this.#abort.signal,
      // The dead-letter table is local: whatever went wrong with it, only trying again can help.
      retryIf: () => true,
      onRetry: ({ error, attempt, delayMs }) => {
        this.#d.logger.error({ integration: this.#d.name, attempt, delayMs, messages: letters.length, err: error }, 'writing dead letters failed; retrying');
      },
    });
    this.#d.metrics.deadLetters.inc(this.#d.labels, letters.length);
    if (dropped > 0) {
      this.#d.metrics.deadLettersDropped.inc(this.#d.labels, dropped);
      this.#d.logger.warn({ integration: this.#d.name, dropped }, 'dead-letter cap reached: the oldest dead letters were deleted');
    }
    this.#d.logger.warn({ integration: this.#d.name, messages: letters.length, error: letters[0]!.error }, 'messages were dead-lettered');
  }

  #release(messages: number): void {
    this.#d.pressure.remove(messages);
    this.#d.metrics.inFlight.set(this.#d.labels, this.#d.pressure.inFlight);
  }

  #debug(batch: Converted, i: number, outcome: UplinkOutcome, storeMs: number): void {
    const result = batch.results[i]!;
    const input = batch.inputs[i]!;
    this.#d.ring.record({
      time: this.#d.clock.now(),
      type: 'uplink',
      status: outcome.status,
      in: { payload: viewPayload(input.payload), metadata: input.metadata },
      ...(result.ok ? { out: result.output } : {}),
      ...(outcome.status !== 'stored' ? { error: outcome.error } : {}),
      logs: result.logs,
      timings: { convertMs: round(batch.convertMs), storeMs: round(storeMs), batchSize: batch.jobs.length },
    });
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
