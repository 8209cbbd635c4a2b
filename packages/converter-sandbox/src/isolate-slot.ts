import ivm from 'isolated-vm';
import { ConverterError, type ConverterLimits } from '@tbi/plugin-api';
import { decodeBatch, type ConverterKind, type EncodedBatch, type RawOutcome } from './batch-codec.js';
import { DOWNLINK_FILENAME, runtimeSource, UPLINK_FILENAME } from './runtime/runtime-source.js';

/** How one call into an isolate ended. */
export type CallResult =
  /**
   * The call finished: `text` is what the runtime returned (decoded by `decodeBatchText`, which
   * the caller may do after handing the isolate to the next call); `tainted` when a message
   * broke built-ins the runtime needs (the isolate was already discarded).
   */
  | { status: 'ok'; text: string; tainted: boolean }
  /** Stopped by the time limit while converting message `index`; `done` holds the messages before it. */
  | { status: 'timeout'; done: RawOutcome[]; index: number }
  /** Stopped by the time limit after the loop had finished: in promise jobs a message scheduled. */
  | { status: 'timeout-after' }
  | { status: 'memory' }
  | { status: 'crashed'; message: string };

const PARAMS = {
  uplink: ['payload', 'metadata'],
  downlink: ['msg', 'metadata', 'msgType', 'integrationMetadata'],
} as const;
const FUNCTION_NAME = { uplink: 'Decoder', downlink: 'Encoder' } as const;
const FILENAME = { uplink: UPLINK_FILENAME, downlink: DOWNLINK_FILENAME } as const;

/** Options shared by every isolate of a sandbox. */
export interface SlotOptions {
  kind: ConverterKind;
  source: string;
  limits: ConverterLimits;
  /** Shown by the watchdog when a call hangs. */
  name?: string;
  /** isolated-vm's "the process is in danger" callback. */
  onCatastrophicError?: (message: string) => void;
}

interface Live {
  isolate: ivm.Isolate;
  context: ivm.Context;
  run: ivm.Reference<(...args: unknown[]) => string>;
  state: ivm.Reference<{ out: string; extra: string; index: number; done: boolean }>;
}

/**
 * Calls into isolates in progress in this process, with when they started. isolated-vm stops a
 * call at its time limit only at V8 interrupt points; a built-in looping in C++ never reaches
 * one, so the converter process's watchdog (`overdueCall`) looks here for calls far past it.
 */
const activeCalls = new Set<{ started: number; limitMs: number; name: string }>();

/** The oldest call running longer than `limitMs × factor + marginMs`, if any. */
export function overdueCall(factor: number, marginMs: number, now = performance.now()): { runningMs: number; limitMs: number; name: string } | undefined {
  for (const call of activeCalls) {
    const runningMs = now - call.started;
    if (runningMs > call.limitMs * factor + marginMs) return { runningMs, limitMs: call.limitMs, name: call.name };
  }
  return undefined;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && /execution timed out/i.test(error.message);
}

/**
 * One isolate with the runtime and one compiled converter in it. Calls are serialised by the
 * pool; after a timeout or a memory breach the isolate is thrown away and rebuilt from the same
 * source, so a converter's broken state never outlives the call that broke it.
 */
export class IsolateSlot {
  private live: Live | undefined;
  private disposed = false;

  private constructor(private readonly options: SlotOptions) {}

  /** Builds the isolate and compiles the converter; throws `ConverterError` COMPILE on a bad source. */
  static async create(options: SlotOptions): Promise<IsolateSlot> {
    const slot = new IsolateSlot(options);
    slot.live = await slot.build();
    return slot;
  }

  private async build(): Promise<Live> {
    const { kind, source, limits } = this.options;
    const isolate = new ivm.Isolate({
      memoryLimit: limits.memoryMb,
      ...(this.options.onCatastrophicError ? { onCatastrophicError: this.options.onCatastrophicError } : {}),
    });
    try {
      // Setting up is our code plus compiling the user's; give it more room than one batch.
      const timeout = Math.max(2000, limits.timeoutMs);
      const context = await isolate.createContext();
      const runtimeScript = await isolate.compileScript(runtimeSource(limits.memoryMb), { filename: 'tbi-runtime.js' });
      const runtime = (await runtimeScript.run(context, { reference: true, timeout })) as ivm.Reference<Record<string, unknown>>;
      runtimeScript.release();
      const check = (await runtime.get('check', { reference: true })) as ivm.Reference<(p: string, b: string) => string>;
      const params = PARAMS[kind].join(', ');
      // The Function constructor parses the body on its own, so a body cannot close our wrapper
      // early (`}); evil(); (function(){`); only then is it compiled inside the named wrapper.
      const problem = await check.apply(undefined, [params, source], { timeout });
      const wrapped = `(function ${FUNCTION_NAME[kind]}(${params}) {\n${source}\n})`;
      if (problem !== '') throw await this.compileError(isolate, wrapped, problem);
      let script: ivm.Script;
      try {
        script = await isolate.compileScript(wrapped, { filename: FILENAME[kind], lineOffset: -1 });
      } catch (error) {
        throw this.asCompileError(error);
      }
      const fn = (await script.run(context, { reference: true, timeout })) as ivm.Reference<unknown>;
      script.release();
      const install = (await runtime.get('install', { reference: true })) as ivm.Reference<(f: unknown, n: string) => void>;
      await install.apply(undefined, [fn.derefInto(), FILENAME[kind]], { timeout });
      const run = (await runtime.get(kind === 'uplink' ? 'runUplink' : 'runDownlink', { reference: true })) as Live['run'];
      const state = (await runtime.get('state', { reference: true })) as Live['state'];
      return { isolate, context, run, state };
    } catch (error) {
      if (!isolate.isDisposed) isolate.dispose();
      if (error instanceof ConverterError) throw error;
      if (isTimeout(error)) throw new ConverterError('COMPILE', `compiling the converter took longer than ${Math.max(2000, limits.timeoutMs)} ms`);
      throw new ConverterError('COMPILE', `the converter could not be set up: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Compiling the wrapper gives the syntax error a line and column; fall back to the check's text. */
  private async compileError(isolate: ivm.Isolate, wrapped: string, fallback: string): Promise<ConverterError> {
    try {
      const script = await isolate.compileScript(wrapped, { filename: FILENAME[this.options.kind], lineOffset: -1 });
      script.release();
    } catch (error) {
      return this.asCompileError(error);
    }
    return new ConverterError('COMPILE', `the converter does not compile: ${fallback}`);
  }

  private asCompileError(error: unknown): ConverterError {
    const raw = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    // isolated-vm writes "Unexpected token '}' [uplink-converter.js:3:1]".
    const lines = this.options.source.split('\n').length;
    const text = raw.replace(/\s*\[[^\]]*?:(\d+):(\d+)\]$/, (_, line: string, column: string) =>
      Number(line) > lines
        ? ' (at the end of the converter: a closing brace, bracket or parenthesis is probably missing)'
        : ` (line ${line}, column ${column})`,
    );
    return new ConverterError('COMPILE', `the converter does not compile: ${text}`, { cause: error });
  }

  /** Runs one batch in the isolate. Never throws: every ending is a `CallResult`. */
  async call(batch: EncodedBatch, count: number): Promise<CallResult> {
    if (this.disposed) return { status: 'crashed', message: 'the converter was disposed' };
    let live = this.live;
    if (live === undefined) {
      try {
        live = this.live = await this.build();
      } catch (error) {
        return { status: 'crashed', message: `the converter's isolate could not be rebuilt: ${(error as Error).message}` };
      }
    }
    const args: ivm.Transferable[] =
      batch.bytes === undefined
        ? [batch.itemsJson]
        : // The buffer is made for this one call (encodeUplinkBatch): hand it over instead of copying it twice.
          [new ivm.ExternalCopy(batch.bytes, { transferOut: true }).copyInto({ release: true, transferIn: true }), batch.itemsJson];
    const entry = { started: performance.now(), limitMs: this.options.limits.timeoutMs, name: this.options.name ?? 'converter' };
    activeCalls.add(entry);
    try {
      const text = await live.run.apply(undefined, args, { timeout: this.options.limits.timeoutMs });
      if (typeof text !== 'string') return { status: 'crashed', message: 'the sandbox runtime returned a malformed result' };
      if (text.startsWith('T')) {
        // The converter broke built-ins the runtime needs: start the next batch on a fresh isolate.
        this.discard(live);
        return { status: 'ok', text: text.slice(1), tainted: true };
      }
      return { status: 'ok', text, tainted: false };
    } catch (error) {
      return this.afterFailure(live, error, count);
    } finally {
      activeCalls.delete(entry);
    }
  }

  private async afterFailure(live: Live, error: unknown, count: number): Promise<CallResult> {
    if (live.isolate.isDisposed) {
      this.live = undefined;
      return this.disposed ? { status: 'crashed', message: 'the converter was disposed' } : { status: 'memory' };
    }
    let result: CallResult = { status: 'crashed', message: error instanceof Error ? error.message : String(error) };
    if (isTimeout(error)) {
      result = { status: 'timeout-after' };
      try {
        // The isolate survives a timeout: read how far the loop got before throwing it away.
        const done = (await live.state.get('done')) as unknown;
        if (done !== true) {
          const index = (await live.state.get('index')) as unknown;
          const out = (await live.state.get('out')) as unknown;
          const extra = (await live.state.get('extra')) as unknown;
          const finished = typeof out === 'string' && typeof extra === 'string' ? (out === '' ? [] : decodeBatch(out, extra, count, true)) : null;
          if (typeof index === 'number' && finished !== null && finished.length === index) {
            result = { status: 'timeout', done: finished, index };
          }
        }
      } catch {
        // Unreadable state: the caller falls back to one message at a time.
      }
    }
    this.discard(live);
    return result;
  }

  private discard(live: Live): void {
    if (this.live === live) this.live = undefined;
    try {
      if (!live.isolate.isDisposed) live.isolate.dispose();
    } catch {
      // Already gone.
    }
  }

  /** Heap in use by this isolate, in bytes (0 when it is being rebuilt). */
  async heapUsed(): Promise<number> {
    const live = this.live;
    if (live === undefined || live.isolate.isDisposed) return 0;
    const stats = await live.isolate.getHeapStatistics();
    return stats.used_heap_size + stats.externally_allocated_size;
  }

  dispose(): void {
    this.disposed = true;
    if (this.live) this.discard(this.live);
  }
}
