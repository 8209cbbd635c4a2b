import os from 'node:os';
import type { EncodedBatch, RawOutcome } from './batch-codec.js';
import { IsolateSlot, type SlotOptions } from './isolate-slot.js';
import { runOnSlot, settle, type LazyInputs, type Piece } from './run-batch.js';

/**
 * Below this many messages a batch runs on one isolate: a call costs tens of microseconds, a
 * simple conversion a few, so splitting small batches across threads costs more than it gains.
 */
export const MIN_MESSAGES_PER_SPLIT = 64;

/**
 * Large batches are cut into parts of about this many messages, even on one isolate, when the
 * machine has more than one core: while an isolate converts one part, the host thread decodes
 * and validates the part before (about a third of the work) instead of everyone waiting for the
 * whole batch and then for the host. Each extra call costs some 45 µs of CPU (thread hand-over,
 * copies), so parts stay large: smaller ones (128, 256) measured more CPU per message and no
 * better rate on a busy 2-core machine.
 */
export const MESSAGES_PER_PART = 512;

const MULTI_CORE = os.availableParallelism() > 1;

/** How many parts a batch of `count` messages is cut into on a pool of `slots` isolates. */
export function partCount(count: number, slots: number, multiCore = MULTI_CORE): number {
  const wanted = multiCore ? Math.max(slots, Math.round(count / MESSAGES_PER_PART)) : slots;
  return Math.max(1, Math.min(wanted, Math.floor(count / MIN_MESSAGES_PER_SPLIT)));
}

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

  /**
   * Converts a batch, cut into parts (see `partCount`) that run on the isolates as they become
   * free. `finish` maps each outcome to the caller's result; it runs on a part as soon as that
   * part is done, while the isolates already convert the next parts.
   */
  async run<I, R = RawOutcome>(
    inputs: readonly I[],
    encode: (inputs: readonly I[]) => EncodedBatch,
    finish?: (outcome: RawOutcome, input: I) => R,
  ): Promise<R[]> {
    if (inputs.length === 0) return [];
    const parts = partCount(inputs.length, this.slots.length);
    if (parts === 1) return this.runPart(inputs, encode, finish);
    const size = Math.ceil(inputs.length / parts);
    const chunks: (readonly I[])[] = [];
    for (let i = 0; i < inputs.length; i += size) chunks.push(inputs.slice(i, i + size));
    const results = await Promise.all(chunks.map((chunk) => this.runPart(chunk, encode, finish)));
    return results.flat();
  }

  /**
   * Runs one part that is already encoded (a converter process receives parts so) and leaves
   * the finished calls' text undecoded (see `Piece`) for the host. The messages are decoded only
   * if some must run again.
   */
  async runEncoded<I>(encoded: EncodedBatch, inputs: LazyInputs<I>, encode: (inputs: readonly I[]) => EncodedBatch): Promise<Piece[]> {
    if (inputs.count === 0) return [];
    const slot = this.take() ?? (await this.wait());
    try {
      return await runOnSlot(slot, inputs, encode, this.options.limits, encoded);
    } finally {
      this.release(slot);
    }
  }

  private async runPart<I, R>(
    inputs: readonly I[],
    encode: (inputs: readonly I[]) => EncodedBatch,
    finish: ((outcome: RawOutcome, input: I) => R) | undefined,
  ): Promise<R[]> {
    // A free isolate starts at once (no await before the call is under way); otherwise a part
    // that will be next on an isolate is encoded now, while it waits (parts further back in the
    // queue encode when their turn comes, so a long queue does not hold a second copy of its
    // payloads).
    let slot = this.take();
    const encoded = slot === undefined && this.waiters.length < this.slots.length ? encode(inputs) : undefined;
    slot ??= await this.wait();
    let pieces;
    let handedOver = false;
    try {
      pieces = await runOnSlot(slot, inputs, encode, this.options.limits, encoded);
    } finally {
      handedOver = this.release(slot);
    }
    // Let the part that was waiting for this isolate start before decoding this one.
    if (handedOver) await undefined;
    const outcomes = settle(pieces);
    if (finish === undefined) return outcomes as R[];
    const results: R[] = new Array<R>(outcomes.length);
    for (let i = 0; i < outcomes.length; i++) results[i] = finish(outcomes[i] as RawOutcome, inputs[i] as I);
    return results;
  }

  private take(): IsolateSlot | undefined {
    const slot = this.idle.pop();
    if (slot !== undefined) this.active++;
    return slot;
  }

  private wait(): Promise<IsolateSlot> {
    this.active++;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Gives the slot to the next waiting part, if any (true), or back to the idle ones. */
  private release(slot: IsolateSlot): boolean {
    this.active--;
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.idle.push(slot);
    if (this.active === 0 && this.drained) this.drained();
    return next !== undefined;
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
