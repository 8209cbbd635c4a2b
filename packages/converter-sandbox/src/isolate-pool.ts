import type { EncodedBatch, RawOutcome } from './batch-codec.js';
import { IsolateSlot, type SlotOptions } from './isolate-slot.js';
import { runOnSlot } from './run-batch.js';

/**
 * Below this many messages a batch runs on one isolate: a call costs tens of microseconds, a
 * simple conversion a few, so splitting small batches across threads costs more than it gains.
 */
export const MIN_MESSAGES_PER_SPLIT = 64;

/**
 * The isolates of one converter version. isolated-vm runs each isolate on its own thread, so a
 * pool of N isolates converts up to N batches (or N parts of one large batch) at once while the
 * host thread decodes and validates results.
 */
export class IsolatePool {
  private readonly idle: IsolateSlot[];
  private readonly waiters: ((slot: IsolateSlot) => void)[] = [];
  private active = 0;
  private drained: (() => void) | undefined;
  private disposed = false;

  private constructor(
    private readonly slots: IsolateSlot[],
    private readonly options: SlotOptions,
  ) {
    this.idle = [...slots];
  }

  /** Builds `size` isolates with the converter compiled in each; throws COMPILE on a bad source. */
  static async create(options: SlotOptions, size: number): Promise<IsolatePool> {
    const first = await IsolateSlot.create(options);
    const rest = await Promise.allSettled(Array.from({ length: size - 1 }, () => IsolateSlot.create(options)));
    const slots = [first];
    for (const r of rest) {
      if (r.status === 'fulfilled') slots.push(r.value);
      else {
        for (const s of [...slots, ...rest.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []))]) s.dispose();
        throw r.reason;
      }
    }
    return new IsolatePool(slots, options);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Converts a batch, split across idle isolates when it is large enough to gain from it. */
  async run<I>(inputs: readonly I[], encode: (inputs: readonly I[]) => EncodedBatch): Promise<RawOutcome[]> {
    if (inputs.length === 0) return [];
    const parts = Math.max(1, Math.min(this.slots.length, Math.floor(inputs.length / MIN_MESSAGES_PER_SPLIT)));
    if (parts === 1) return this.runPart(inputs, encode);
    const size = Math.ceil(inputs.length / parts);
    const chunks: (readonly I[])[] = [];
    for (let i = 0; i < inputs.length; i += size) chunks.push(inputs.slice(i, i + size));
    const results = await Promise.all(chunks.map((chunk) => this.runPart(chunk, encode)));
    return results.flat();
  }

  private async runPart<I>(inputs: readonly I[], encode: (inputs: readonly I[]) => EncodedBatch): Promise<RawOutcome[]> {
    const slot = await this.acquire();
    try {
      return await runOnSlot(slot, inputs, encode, this.options.limits);
    } finally {
      this.release(slot);
    }
  }

  private acquire(): Promise<IsolateSlot> {
    this.active++;
    const slot = this.idle.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(slot: IsolateSlot): void {
    this.active--;
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.idle.push(slot);
    if (this.active === 0 && this.drained) this.drained();
  }

  /** Waits for calls in progress (they finish on this version), then frees the isolates. */
  async retire(): Promise<void> {
    if (this.active > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.dispose();
  }

  /** Frees the isolates now; calls in progress end with a "disposed" failure. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const slot of this.slots) slot.dispose();
    // Queued parts get a disposed slot, whose calls end at once with a "disposed" failure.
    for (const waiter of this.waiters.splice(0)) waiter(this.slots[0] as IsolateSlot);
  }

  /** Heap in use by all isolates of the pool, in bytes. */
  async heapUsed(): Promise<number> {
    const sizes = await Promise.all(this.slots.map((s) => s.heapUsed().catch(() => 0)));
    return sizes.reduce((a, b) => a + b, 0);
  }
}
