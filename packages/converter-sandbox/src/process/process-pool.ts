import type { ConverterLimits } from '@tbi/plugin-api';
import { ConverterProcess, type CrashInfo, type ProcessSettings } from './converter-process.js';

/** What a converter process needs to load a converter again (after a restart, or elsewhere). */
export interface ConverterSpec {
  id: number;
  kind: 'uplink' | 'downlink';
  name: string;
  source: string;
  limits: ConverterLimits;
}

/** A converter process restart, as `onRestart` and `stats()` report it. */
export interface RestartEvent extends CrashInfo {
  /** Epoch ms. */
  at: number;
  /** The converter whose message was found to end the process, once it is known. */
  converter?: string;
}

/** Converters of one integration share a process: `mqtt-in/uplink` and `mqtt-in/downlink`. */
function integrationOf(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name : name.slice(0, slash);
}

/** FNV-1a: a stable assignment of integrations to processes, the same on every start. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The supervised converter processes: `size` of them, each holding the converters of the
 * integrations assigned to it. A process that ends is replaced on next use, and the converters it
 * held are loaded again there. Processes for retries (`fresh`) are made apart from the pool.
 */
export class ProcessPool {
  private readonly slots: Array<ConverterProcess | undefined>;
  private readonly restartCounts: number[];
  private disposed = false;
  private readonly extra = new Set<ConverterProcess>();

  constructor(
    readonly size: number,
    private readonly settings: ProcessSettings,
    private readonly onCrash: (info: CrashInfo, slot: number | undefined) => void,
  ) {
    this.slots = new Array<ConverterProcess | undefined>(size).fill(undefined);
    this.restartCounts = new Array<number>(size).fill(0);
  }

  /** Isolates of each converter in a process (the host cuts batches into parts for them). */
  get isolatesPerConverter(): number {
    return this.settings.poolSize;
  }

  /** The process slot a converter of this name lives in. */
  slotFor(name: string): number {
    return hash(integrationOf(name)) % this.size;
  }

  /** The live process of a slot, started if needed. */
  process(slot: number): ConverterProcess {
    if (this.disposed) throw new Error('the converter sandbox was disposed');
    let proc = this.slots[slot];
    if (proc === undefined || !proc.alive) {
      proc = this.spawn(slot);
      this.slots[slot] = proc;
    }
    return proc;
  }

  /** The live process of a slot, if it has one. */
  current(slot: number): ConverterProcess | undefined {
    const proc = this.slots[slot];
    return proc?.alive ? proc : undefined;
  }

  /** A process of its own (for retries and converter tests); the caller kills it when done. */
  fresh(): ConverterProcess {
    if (this.disposed) throw new Error('the converter sandbox was disposed');
    const proc = this.spawn(undefined);
    this.extra.add(proc);
    void proc.ended.then(() => this.extra.delete(proc));
    return proc;
  }

  private spawn(slot: number | undefined): ConverterProcess {
    const proc = new ConverterProcess(this.settings);
    void proc.ended.then((info) => {
      if (slot !== undefined && this.slots[slot] === proc) this.slots[slot] = undefined;
      if (info.cause === 'disposed') return;
      if (slot !== undefined) this.restartCounts[slot] = (this.restartCounts[slot] ?? 0) + 1;
      this.onCrash(info, slot);
    });
    return proc;
  }

  /** Makes sure converter `spec` is loaded in `proc` (once per process). */
  load(proc: ConverterProcess, spec: ConverterSpec): Promise<void> {
    let loading = proc.loaded.get(spec.id);
    if (loading === undefined) {
      loading = proc.request({ op: 'create', id: spec.id, kind: spec.kind, name: spec.name, source: spec.source, limits: spec.limits }).then(() => undefined);
      proc.loaded.set(spec.id, loading);
      // A failed load is tried again by the next call.
      loading.catch(() => proc.loaded.delete(spec.id));
    }
    return loading;
  }

  /** Pid, restarts and whether each slot's process is running. */
  processes(): Array<{ slot: number; pid: number | undefined; running: boolean; restarts: number }> {
    return this.slots.map((proc, slot) => ({
      slot,
      pid: proc?.alive ? proc.pid : undefined,
      running: proc?.alive ?? false,
      restarts: this.restartCounts[slot] ?? 0,
    }));
  }

  /** Kills every process (pool and fresh ones), waits until they are gone: how many were busy. */
  async dispose(): Promise<number> {
    this.disposed = true;
    const all = [...this.slots.filter((p): p is ConverterProcess => p?.alive === true), ...this.extra];
    for (const proc of all) proc.kill({ cause: 'disposed', message: 'the converter sandbox was disposed' });
    await Promise.all(all.map((p) => p.ended));
    return all.filter((p) => p.killedBusy).length;
  }
}
