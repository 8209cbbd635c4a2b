import {
  ConverterError,
  TbiError,
  type Converter,
  type ConverterLimits,
  type DownlinkRequest,
  type DownlinkResult,
  type UplinkInput,
  type UplinkResult,
} from '@tbi/plugin-api';
import { encodeDownlinkBatch, encodeUplinkBatch, type ConverterKind, type EncodedBatch, type RawOutcome } from './batch-codec.js';
import { IsolatePool } from './isolate-pool.js';
import type { LazyInputs, Piece } from './run-batch.js';
import { normaliseUplinkOutput } from './normalise-uplink.js';
import { validateDownlinkOutput } from './validate-downlink.js';

/** What a converter needs to build its isolates. */
export interface ConverterSettings {
  kind: ConverterKind;
  name: string;
  limits: ConverterLimits;
  poolSize: number;
  onCatastrophicError?: (message: string) => void;
  clock?: () => number;
}

/** Builds the pool for one version of the source; throws `ConverterError` COMPILE on a bad source. */
export async function createPool(settings: ConverterSettings, source: string): Promise<IsolatePool> {
  if (typeof source !== 'string') {
    throw new ConverterError('COMPILE', `${settings.kind} converter "${settings.name}": the source must be a string`, {
      context: { converter: settings.name },
    });
  }
  try {
    return await IsolatePool.create(
      {
        kind: settings.kind,
        name: settings.name,
        source,
        limits: settings.limits,
        ...(settings.onCatastrophicError ? { onCatastrophicError: settings.onCatastrophicError } : {}),
      },
      settings.poolSize,
    );
  } catch (error) {
    if (!(error instanceof ConverterError)) throw error;
    throw new ConverterError(error.kind, `${settings.kind} converter "${settings.name}": ${error.message}`, {
      cause: error.cause,
      context: { converter: settings.name },
    });
  }
}

/**
 * A compiled converter: the current version's isolate pool plus the mapping of raw outcomes to
 * the plugin API's results. `replace` compiles the new source into a new pool first, then swaps;
 * batches already running finish on the old pool, which is then freed.
 */
abstract class SandboxConverter<I, R> implements Converter<I, R> {
  private current: IsolatePool;
  private versionNumber = 1;
  private disposed = false;
  private replacing: Promise<void> = Promise.resolve();

  constructor(
    protected readonly settings: ConverterSettings,
    pool: IsolatePool,
    private readonly onDispose: (c: object) => void,
  ) {
    this.current = pool;
  }

  get name(): string {
    return this.settings.name;
  }

  get version(): number {
    return this.versionNumber;
  }

  protected abstract encode(inputs: readonly I[]): EncodedBatch;
  protected abstract toResult(outcome: RawOutcome, input: I): R;
  private readonly encoder = (inputs: readonly I[]): EncodedBatch => this.encode(inputs);
  private readonly finisher = (outcome: RawOutcome, input: I): R => this.toResult(outcome, input);

  async run(batch: readonly I[]): Promise<R[]> {
    if (this.disposed) throw new TbiError('CONVERTER_DISPOSED', `converter "${this.name}" was disposed`, { context: { converter: this.name } });
    // Results are made part by part, while the isolates convert the next parts.
    return this.current.run(batch, this.encoder, this.finisher);
  }

  /**
   * One part of a batch, already encoded by the host: the isolates' undecoded results, which a
   * converter process sends to the host as they are.
   */
  runEncoded(encoded: EncodedBatch, inputs: LazyInputs<I>): Promise<Piece[]> {
    if (this.disposed) throw new TbiError('CONVERTER_DISPOSED', `converter "${this.name}" was disposed`, { context: { converter: this.name } });
    return this.current.runEncoded(encoded, inputs, this.encoder);
  }

  /** The raw outputs, for tools (`testConverter`) that show what the script returned. */
  runRaw(batch: readonly I[]): Promise<RawOutcome[]> {
    return this.current.run(batch, this.encoder);
  }

  replace(source: string): Promise<void> {
    // Replacements are applied in call order; a failed one leaves the running version in place.
    const next = this.replacing.then(async () => {
      if (this.disposed) return;
      const pool = await createPool(this.settings, source);
      if (this.disposed) {
        pool.dispose();
        return;
      }
      const old = this.current;
      this.current = pool;
      this.versionNumber++;
      void old.retire();
    });
    this.replacing = next.catch(() => {});
    return next;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose(this);
    await this.replacing;
    this.current.dispose();
  }

  /** Heap in use by this converter's isolates, in bytes. */
  heapUsed(): Promise<number> {
    return this.current.heapUsed();
  }
}

export class SandboxUplinkConverter extends SandboxConverter<UplinkInput, UplinkResult> {
  protected encode(inputs: readonly UplinkInput[]): EncodedBatch {
    return encodeUplinkBatch(inputs);
  }

  protected toResult(outcome: RawOutcome, input: UplinkInput): UplinkResult {
    return uplinkResult(outcome, input, this.settings.clock);
  }
}

export class SandboxDownlinkConverter extends SandboxConverter<DownlinkRequest, DownlinkResult> {
  protected encode(inputs: readonly DownlinkRequest[]): EncodedBatch {
    return encodeDownlinkBatch(inputs);
  }

  protected toResult(outcome: RawOutcome): DownlinkResult {
    return downlinkResult(outcome);
  }
}

export type { SandboxConverter };

/** An uplink outcome as the plugin API's result: the output normalised into device records. */
export function uplinkResult(outcome: RawOutcome, input: UplinkInput, clock?: () => number): UplinkResult {
  if (!outcome.ok) return outcome;
  const receivedAt = input.receivedAt ?? (clock ?? Date.now)();
  const normalised = normaliseUplinkOutput(outcome.output, receivedAt);
  if (!normalised.ok) return { ok: false, error: normalised.error, logs: outcome.logs };
  return { ok: true, records: normalised.records, output: outcome.output, logs: outcome.logs };
}

/** A downlink outcome as the plugin API's result: the output validated. */
export function downlinkResult(outcome: RawOutcome): DownlinkResult {
  if (!outcome.ok) return outcome;
  const validated = validateDownlinkOutput(outcome.output);
  if (!validated.ok) return { ok: false, error: validated.error, logs: outcome.logs };
  return { ok: true, encoded: validated.encoded, logs: outcome.logs };
}
