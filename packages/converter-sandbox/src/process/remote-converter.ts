import { TbiError, type Converter, type DownlinkRequest, type UplinkInput } from '@tbi/plugin-api';
import { encodeDownlinkBatch, encodeUplinkBatch, type EncodedBatch, type RawOutcome } from '../batch-codec.js';
import { partCount } from '../isolate-pool.js';
import { settle, type Piece } from '../run-batch.js';
import { downlinkResult, uplinkResult } from '../sandbox-converter.js';
import { isConverterProcessCrash, type ConverterProcess, type CrashInfo } from './converter-process.js';
import { crashFailure } from './crash-failure.js';
import type { ConverterSpec, ProcessPool } from './process-pool.js';

/** What a remote converter reports to its sandbox. */
export interface RemoteHooks {
  /** A message of this converter ended a process on its own. */
  onCulprit(converter: string, info: CrashInfo): void;
  onDispose(converter: RemoteConverter<unknown, unknown>): void;
  clock?: () => number;
}

/**
 * A converter living in one of the pool's processes. `run` sends the whole batch in one message;
 * if the process ends while it runs, the batch is run again one message per call in a fresh
 * process of its own, so that only the message that ends a process fails (with the reason) and
 * the pool's process, restarted, serves the other integrations meanwhile.
 */
export class RemoteConverter<I, R> implements Converter<I, R> {
  private versionNumber = 1;
  private disposed = false;
  private replacing: Promise<void> = Promise.resolve();
  private readonly slot: number;

  constructor(
    private readonly pool: ProcessPool,
    private spec: ConverterSpec,
    private readonly hooks: RemoteHooks,
  ) {
    this.slot = pool.slotFor(spec.name);
  }

  get name(): string {
    return this.spec.name;
  }

  get version(): number {
    return this.versionNumber;
  }

  /** Loads the converter in its process; a bad source is the child's `ConverterError` COMPILE. */
  async load(): Promise<void> {
    await this.pool.load(this.pool.process(this.slot), this.spec);
  }

  async run(batch: readonly I[]): Promise<R[]> {
    if (this.disposed) throw new TbiError('CONVERTER_DISPOSED', `converter "${this.name}" was disposed`, { context: { converter: this.name } });
    if (batch.length === 0) return [];
    const spec = this.spec;
    try {
      const proc = this.pool.process(this.slot);
      await this.pool.load(proc, spec);
      // Cut as the in-process pool cuts (parts go to the process's isolates as they free up);
      // each part is decoded and validated here as soon as it is back, while the next converts.
      const parts = partCount(batch.length, this.pool.isolatesPerConverter);
      if (parts === 1) return this.results(await proc.run(spec.id, this.encode(batch), batch.length), batch);
      const size = Math.ceil(batch.length / parts);
      const chunks: (readonly I[])[] = [];
      for (let i = 0; i < batch.length; i += size) chunks.push(batch.slice(i, i + size));
      const done = await Promise.all(chunks.map(async (chunk) => this.results(await proc.run(spec.id, this.encode(chunk), chunk.length), chunk)));
      return done.flat();
    } catch (error) {
      if (!isConverterProcessCrash(error)) throw error;
      if (error.info.cause === 'disposed' || this.disposed) return batch.map(() => disposedResult(this.name) as R);
      return this.runAlone(batch, spec);
    }
  }

  /** The batch as the in-process sandbox encodes it for an isolate (the process cuts it up again). */
  private encode(batch: readonly I[]): EncodedBatch {
    return this.spec.kind === 'uplink' ? encodeUplinkBatch(batch as readonly UplinkInput[]) : encodeDownlinkBatch(batch as readonly DownlinkRequest[]);
  }

  /** Decodes the isolates' text here (host work, as in process) and validates each output. */
  private results(pieces: Piece[], batch: readonly I[]): R[] {
    const outcomes = settle(pieces);
    const results = new Array<R>(outcomes.length);
    if (this.spec.kind === 'uplink') {
      for (let i = 0; i < outcomes.length; i++) results[i] = uplinkResult(outcomes[i] as RawOutcome, batch[i] as UplinkInput, this.hooks.clock) as R;
    } else {
      for (let i = 0; i < outcomes.length; i++) results[i] = downlinkResult(outcomes[i] as RawOutcome) as R;
    }
    return results;
  }

  private async runAlone(inputs: readonly I[], spec: ConverterSpec): Promise<R[]> {
    const results: R[] = [];
    let proc: ConverterProcess | undefined;
    try {
      for (const input of inputs) {
        if (this.disposed) {
          results.push(disposedResult(this.name) as R);
          continue;
        }
        proc ??= this.pool.fresh();
        try {
          await this.pool.load(proc, spec);
          results.push(this.results(await proc.run(spec.id, this.encode([input]), 1), [input])[0] as R);
        } catch (error) {
          if (!isConverterProcessCrash(error)) throw error;
          if (error.info.cause === 'disposed') {
            results.push(disposedResult(this.name) as R);
            continue;
          }
          results.push({ ok: false, error: crashFailure(error.info), logs: [] } as R);
          this.hooks.onCulprit(spec.name, error.info);
          proc = undefined;
        }
      }
    } finally {
      proc?.kill({ cause: 'disposed', message: 'retry finished' });
    }
    return results;
  }

  replace(source: string): Promise<void> {
    // In call order; a source that does not compile leaves the running version in place.
    const next = this.replacing.then(async () => {
      if (this.disposed) return;
      const proc = this.pool.process(this.slot);
      await this.pool.load(proc, this.spec);
      await proc.request({ op: 'replace', id: this.spec.id, source });
      this.spec = { ...this.spec, source };
      this.versionNumber++;
    });
    this.replacing = next.catch(() => {});
    return next;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.hooks.onDispose(this as RemoteConverter<unknown, unknown>);
    await this.replacing;
    const proc = this.pool.current(this.slot);
    if (proc?.loaded.has(this.spec.id)) {
      proc.loaded.delete(this.spec.id);
      // Not awaited: a process whose isolate is stuck in a built-in cannot answer until its
      // watchdog ends it, and stopping an integration (or the host) must not wait for that.
      void proc.request({ op: 'dispose', id: this.spec.id }).catch(() => undefined);
    }
  }
}

function disposedResult(name: string): { ok: false; error: { kind: 'THREW'; message: string }; logs: [] } {
  return { ok: false, error: { kind: 'THREW', message: `the sandbox failed: converter "${name}" was disposed while this message was converted` }, logs: [] };
}
