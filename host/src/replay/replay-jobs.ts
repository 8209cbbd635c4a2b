import {
  isShutdownError,
  isTbiError,
  PluginError,
  sleep,
  type Counter,
  type Gauge,
  type Logger,
  type Metrics,
  type ReplayPoint,
  type ReplaySource,
} from '@tbi/plugin-api';
import type { IntegrationChannel } from '../pipeline/channel.js';
import { describePoint } from './replay-point.js';
import type { ReplayRecord, ReplayStore } from './replay-store.js';

/** What a replay needs of its integration while that runs. */
export interface ReplayTarget {
  replay: ReplaySource;
  channel: IntegrationChannel;
  /** Aborted when the integration stops: the replay waits for it to run again. */
  signal: AbortSignal;
}

/** Why an integration cannot replay (now). */
export type ReplayUnavailable = 'unknown' | 'unsupported' | 'not-running';

/** Finds an integration's replay target by name. */
export type ReplayTargets = (integration: string) => ReplayTarget | ReplayUnavailable;

/** A replay with its live figures, as the API shows it. */
export interface ReplayView extends ReplayRecord {
  /** Messages read per second since this run (of the host) started it. */
  rate?: number;
  /** `read / total` in percent, when the connector gave a total. */
  percent?: number;
}

export interface ReplayJobsOptions {
  /** Messages per batch: the most a replay has in the pipeline at once (default 500). */
  maxBatch?: number;
  /** How often a waiting replay looks whether its integration runs again (default 1000 ms). */
  pollMs?: number;
  /** How often progress is logged (default 10 000 ms). */
  logEveryMs?: number;
}

interface Active {
  controller: AbortController;
  cancelled: boolean;
  startedAt: number;
  readAtStart: number;
  done: Promise<void>;
}

/** Errors of the replay API, with the HTTP status that fits them. */
export class ReplayRequestError extends PluginError {
  constructor(
    code: 'REPLAY_UNKNOWN_INTEGRATION' | 'REPLAY_UNSUPPORTED' | 'REPLAY_NOT_RUNNING' | 'REPLAY_BUSY' | 'REPLAY_NOT_FOUND' | 'REPLAY_ENDED',
    message: string,
    readonly status: 400 | 404 | 409,
    context: Record<string, unknown>,
  ) {
    super(code, message, { context });
  }
}

export function isReplayRequestError(error: unknown): error is ReplayRequestError {
  return error instanceof ReplayRequestError;
}

/**
 * Runs `tbi replay`: reads a range of an integration's source history again with the connector's
 * `replay` reader, runs it through the integration's *current* uplink converter and stores it over
 * what is stored (`IntegrationChannel.replayHistory`: no `sourceId` de-duplication, so the same
 * (device, key, ts) is overwritten, never doubled).
 *
 * Its share of the pipeline is bounded: one batch of at most `maxBatch` messages at a time, read
 * only once the one before is stored, so live messages queue behind at most one replay batch.
 * After each batch the checkpoint goes to disk (`ReplayStore`); a replay whose integration stops,
 * or whose host is killed, goes on from there when the integration runs again.
 */
export class ReplayJobs {
  readonly #store: ReplayStore;
  readonly #targets: ReplayTargets;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #maxBatch: number;
  readonly #pollMs: number;
  readonly #logEveryMs: number;
  readonly #active = new Map<number, Active>();
  readonly #messages: Counter;
  readonly #running: Gauge;
  #closed = false;

  constructor(store: ReplayStore, targets: ReplayTargets, deps: { logger: Logger; metrics: Metrics; now?: () => number }, options: ReplayJobsOptions = {}) {
    this.#store = store;
    this.#targets = targets;
    this.#logger = deps.logger.child({ component: 'replay' });
    this.#now = deps.now ?? Date.now;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#pollMs = options.pollMs ?? 1000;
    this.#logEveryMs = options.logEveryMs ?? 10_000;
    this.#messages = deps.metrics.counter('tbi_replay_messages_total', 'Messages read again by replays, by outcome (stored, failed).', [
      'integration',
      'outcome',
    ]);
    this.#running = deps.metrics.gauge('tbi_replays_active', 'Replays that have not ended.', []);
  }

  /** Starts a replay of `integration`'s history from `from` to `to` (exclusive; default: the end as of now). */
  start(integration: string, from: ReplayPoint, to?: ReplayPoint): ReplayView {
    const target = this.#targets(integration);
    const context = { integration };
    if (target === 'unknown') throw new ReplayRequestError('REPLAY_UNKNOWN_INTEGRATION', `no integration named "${integration}"`, 404, context);
    if (target === 'unsupported') {
      throw new ReplayRequestError(
        'REPLAY_UNSUPPORTED',
        `integration "${integration}" cannot replay: its connector keeps no history to read again (replay works with kafka, pulsar and rabbitmq streams)`,
        400,
        context,
      );
    }
    if (target === 'not-running')
      throw new ReplayRequestError('REPLAY_NOT_RUNNING', `integration "${integration}" is not running: start it first`, 409, context);
    const busy = this.#store.unfinished().find((r) => r.integration === integration);
    if (busy) {
      throw new ReplayRequestError('REPLAY_BUSY', `integration "${integration}" is already replaying (replay ${busy.id}): wait for it or cancel it`, 409, {
        ...context,
        replay: busy.id,
      });
    }
    const record = this.#store.create(integration, from, to);
    this.#logger.info(
      { replay: record.id, integration, from: describePoint(from), to: to ? describePoint(to) : 'the end as of now' },
      `replay ${record.id} of ${integration} started`,
    );
    this.#run(record);
    return this.view(record);
  }

  /** Goes on with the replays a previous run of the host left unfinished. */
  resumeUnfinished(): void {
    for (const record of this.#store.unfinished()) {
      this.#logger.info({ replay: record.id, integration: record.integration, read: record.read, position: record.position }, `resuming replay ${record.id}`);
      this.#run(record);
    }
  }

  get(id: number): ReplayView | undefined {
    const record = this.#store.get(id);
    return record && this.view(record);
  }

  list(): ReplayView[] {
    return this.#store.list().map((r) => this.view(r));
  }

  /** Cancels a replay that has not ended; what it stored stays stored. */
  async cancel(id: number): Promise<ReplayView> {
    const record = this.#store.get(id);
    if (!record) throw new ReplayRequestError('REPLAY_NOT_FOUND', `no replay ${id}`, 404, { replay: id });
    const active = this.#active.get(id);
    if (!active || (record.state !== 'running' && record.state !== 'waiting')) {
      throw new ReplayRequestError('REPLAY_ENDED', `replay ${id} has already ended (${record.state})`, 409, { replay: id, state: record.state });
    }
    active.cancelled = true;
    active.controller.abort();
    await active.done;
    return this.get(id)!;
  }

  /** Stops every replay where it is, leaving them to resume at the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#active.values()];
    for (const active of running) active.controller.abort();
    await Promise.all(running.map((a) => a.done));
    this.#store.close();
  }

  view(record: ReplayRecord): ReplayView {
    const view: ReplayView = { ...record };
    delete view.checkpoint;
    const active = this.#active.get(record.id);
    if (active && record.state === 'running') {
      const seconds = (this.#now() - active.startedAt) / 1000;
      if (seconds > 0) view.rate = Math.round((record.read - active.readAtStart) / seconds);
    }
    if (record.total !== undefined && record.total > 0) view.percent = Math.min(100, Math.floor((record.read / record.total) * 1000) / 10);
    return view;
  }

  #run(record: ReplayRecord): void {
    if (this.#closed) return;
    const active: Active = { controller: new AbortController(), cancelled: false, startedAt: this.#now(), readAtStart: record.read, done: Promise.resolve() };
    this.#active.set(record.id, active);
    this.#running.set({}, this.#active.size);
    active.done = this.#loop(record, active)
      .catch((error: unknown) => {
        this.#logger.error({ replay: record.id, err: error }, `replay ${record.id} stopped on an unexpected error`);
        this.#end(record.id, 'failed', error instanceof Error ? error.message : String(error));
      })
      .finally(() => {
        this.#active.delete(record.id);
        this.#running.set({}, this.#active.size);
      });
  }

  async #loop(record: ReplayRecord, active: Active): Promise<void> {
    const { id, integration } = record;
    let checkpoint = record.checkpoint;
    let state = record.state;
    const setState = (next: 'running' | 'waiting', detail?: string) => {
      if (state === next) return;
      state = next;
      this.#store.setState(id, next, detail);
      if (next === 'waiting') this.#logger.info({ replay: id, integration }, `replay ${id} waits: ${detail}`);
    };
    const labels = { integration };
    while (!active.controller.signal.aborted) {
      const target = this.#targets(integration);
      if (typeof target === 'string') {
        if (target !== 'not-running')
          return this.#end(id, 'failed', `integration "${integration}" is ${target === 'unknown' ? 'no longer configured' : 'no longer able to replay'}`);
        setState('waiting', `integration "${integration}" is not running; the replay goes on when it runs`);
        await sleep(this.#pollMs, active.controller.signal).catch(() => undefined);
        continue;
      }
      setState('running');
      const signal = AbortSignal.any([active.controller.signal, target.signal]);
      let lastLog = this.#now();
      try {
        const request = {
          from: record.from,
          maxBatch: this.#maxBatch,
          signal,
          ...(record.to ? { to: record.to } : {}),
          ...(checkpoint ? { resume: checkpoint } : {}),
        };
        // Iterated by hand so that a cancel or a stop never waits for a reader that is slow to
        // see its signal: the next batch is raced against the signal, and `return()` is not awaited.
        const iterator = target.replay(request)[Symbol.asyncIterator]();
        const aborted = new Promise<undefined>((resolve) => {
          if (signal.aborted) resolve(undefined);
          else signal.addEventListener('abort', () => resolve(undefined), { once: true });
        });
        try {
          for (;;) {
            const next = await Promise.race([iterator.next(), aborted]);
            if (next === undefined || next.done || signal.aborted) break;
            const batch = next.value;
            let stored = 0;
            if (batch.messages.length > 0) {
              const outcomes = await target.channel.replayHistory(batch.messages);
              stored = outcomes.filter((o) => o.status === 'stored').length;
            }
            const failed = batch.messages.length - stored;
            this.#store.progress(id, {
              read: batch.messages.length,
              stored,
              failed,
              checkpoint: batch.checkpoint,
              position: batch.position,
              ...(batch.total === undefined ? {} : { total: batch.total }),
            });
            checkpoint = batch.checkpoint;
            if (stored > 0) this.#messages.inc({ ...labels, outcome: 'stored' }, stored);
            if (failed > 0) this.#messages.inc({ ...labels, outcome: 'failed' }, failed);
            if (this.#now() - lastLog >= this.#logEveryMs) {
              lastLog = this.#now();
              const view = this.get(id)!;
              this.#logger.info(
                {
                  replay: id,
                  integration,
                  read: view.read,
                  stored: view.stored,
                  failed: view.failed,
                  rate: view.rate,
                  position: view.position,
                  percent: view.percent,
                },
                `replay ${id}: ${view.read} read, ${view.stored} stored, ${view.failed} failed${view.percent === undefined ? '' : ` (${view.percent} %)`}`,
              );
            }
          }
        } finally {
          void iterator.return?.()?.catch(() => undefined);
        }
      } catch (error) {
        if (active.controller.signal.aborted) break;
        if (target.signal.aborted || isShutdownError(error)) continue; // the integration stopped: wait for it
        const message = error instanceof Error ? error.message : String(error);
        this.#logger.warn({ replay: id, integration, err: error }, `replay ${id} failed: ${message}`);
        return this.#end(id, 'failed', isTbiError(error) ? message : `the connector's replay reader failed: ${message}`);
      }
      if (active.controller.signal.aborted) break;
      if (target.signal.aborted) continue;
      const done = this.#store.get(id)!;
      this.#logger.info(
        { replay: id, integration, read: done.read, stored: done.stored, failed: done.failed },
        `replay ${id} of ${integration} done: ${done.read} read, ${done.stored} stored, ${done.failed} failed`,
      );
      return this.#end(id, 'done');
    }
    if (active.cancelled) {
      this.#logger.info({ replay: id, integration }, `replay ${id} cancelled`);
      this.#end(id, 'cancelled');
    }
    // Otherwise the host is closing: the replay stays unfinished and resumes at the next start.
  }

  #end(id: number, state: 'done' | 'failed' | 'cancelled', detail?: string): void {
    this.#store.setState(id, state, detail);
  }
}
