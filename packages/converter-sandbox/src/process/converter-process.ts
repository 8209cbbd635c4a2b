import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ConverterError, TbiError, type ConverterFailure } from '@tbi/plugin-api';
import type { EncodedBatch } from '../batch-codec.js';
import type { Piece } from '../run-batch.js';
import { childEntry } from './child-entry.js';
import type { ChildMessage, ChildSettings, CrashCause, RequestBody } from './protocol.js';

/** Why a converter process ended, as the host saw it. */
export interface CrashInfo {
  cause: CrashCause;
  message: string;
}

/** A request failed because its converter process ended (or was killed) while it ran. */
export class ConverterProcessCrash extends TbiError {
  readonly info: CrashInfo;
  constructor(info: CrashInfo) {
    super('CONVERTER_PROCESS_CRASHED', `the converter process ended: ${info.message}`);
    this.info = info;
  }
}

/** Whether `error` is a `ConverterProcessCrash`. */
export function isConverterProcessCrash(error: unknown): error is ConverterProcessCrash {
  return error instanceof ConverterProcessCrash;
}

/** Settings of one converter process, host side. */
export interface ProcessSettings extends ChildSettings {
  /** Resident memory above which the host kills the process (also its V8 heap limit), in MiB. */
  memoryMb: number;
  /** A busy process silent (no heartbeat) this long is stuck and killed, in ms. */
  silenceMs: number;
}

const PAGE = 4096;

/** Live converter processes: killed when the host exits, however it exits (process.exit included). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
const STDERR_TAIL = 4096;

/** Reads what V8 or Node printed before dying and names the cause. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null, stderr: string): CrashInfo {
  // V8 prints "Fatal JavaScript invalid size error …", "FATAL ERROR: … heap out of memory", or
  // for isolated-vm isolates "<--- Last few GCs --->", GC trace lines ("[pid:0x…] 37 ms: …"),
  // then the reason.
  let text = (
    /Fatal JavaScript ([^\n]*)|FATAL ERROR: ([^\n]*)/
      .exec(stderr)
      ?.slice(1)
      .find((t) => t !== undefined) ?? ''
  ).trim();
  const gcs = stderr.lastIndexOf('<--- Last few GCs --->');
  if (text === '' && gcs >= 0) {
    text =
      stderr
        .slice(gcs)
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
        .find((l) => l !== '' && !l.startsWith('[') && !l.startsWith('<---')) ?? '';
  }
  if (text) {
    const memory = /out of memory|heap limit|allocation failed|CALL_AND_RETRY_LAST/i.test(text);
    return { cause: memory ? 'memory' : 'abort', message: `V8 aborted the process: ${text}` };
  }
  if (signal) return { cause: 'abort', message: `the process was killed by ${signal}` };
  return { cause: 'exit', message: `the process exited with code ${code}` };
}

/**
 * The host's side of one converter process: requests and their replies, a watchdog (a busy
 * process that stops sending heartbeats, or grows past its memory, is killed), and how it ended.
 * Every request in flight when the process ends is rejected with a `ConverterProcessCrash`.
 */
export class ConverterProcess {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (m: Extract<ChildMessage, { op: 'reply'; ok: true }>) => void; reject: (e: Error) => void }>();
  private sequence = 0;
  private lastHeard = performance.now();
  private stderr = '';
  private reported: CrashInfo | undefined;
  private readonly watchdog: NodeJS.Timeout;
  /** Resolves with the reason once the process has ended. */
  readonly ended: Promise<CrashInfo>;
  private ending: CrashInfo | undefined;
  /** Converter ids created in this process, and the creation in progress. */
  readonly loaded = new Map<number, Promise<void>>();

  constructor(private readonly settings: ProcessSettings) {
    const { memoryMb, silenceMs: _s, ...childSettings } = settings;
    this.child = fork(childEntry(), [JSON.stringify(childSettings)], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // isolated-vm wants --no-node-snapshot on Node >= 20; the heap cap keeps a runaway child small.
      execArgv: ['--no-node-snapshot', `--max-old-space-size=${memoryMb}`],
    });
    live.add(this.child);
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL);
    });
    this.child.on('message', (message: ChildMessage) => this.onMessage(message));
    this.ended = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        live.delete(this.child);
        clearInterval(this.watchdog);
        const info = this.ending ?? this.reported ?? describeExit(code, signal, this.stderr);
        this.ending = info;
        for (const p of this.pending.values()) p.reject(new ConverterProcessCrash(info));
        this.pending.clear();
        resolve(info);
      });
    });
    this.child.on('error', () => this.kill({ cause: 'exit', message: 'the converter process could not be started or reached' }));
    this.watchdog = setInterval(() => this.check(), 500);
    this.watchdog.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.ending === undefined;
  }

  /** Sends a request; the reply, a `ConverterError`-shaped failure, or a `ConverterProcessCrash`. */
  request(body: RequestBody): Promise<Extract<ChildMessage, { op: 'reply'; ok: true }>> {
    if (this.ending) return Promise.reject(new ConverterProcessCrash(this.ending));
    const re = ++this.sequence;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.lastHeard = performance.now();
      this.pending.set(re, { resolve, reject });
      try {
        this.child.send({ ...body, re });
      } catch (error) {
        this.pending.delete(re);
        reject(error as Error);
      }
    });
  }

  /** Runs an encoded batch on converter `id`: the isolates' results, to `settle`. */
  async run(id: number, batch: EncodedBatch, count: number): Promise<Piece[]> {
    this.converting++;
    try {
      const reply = await this.request({ op: 'run', id, bytes: batch.bytes, itemsJson: batch.itemsJson, count });
      return reply.pieces ?? [];
    } finally {
      this.converting--;
    }
  }

  /** Whether the process was converting (a `run` in flight, not just a `dispose`) when it was killed. */
  killedBusy = false;
  private converting = 0;

  /** Ends the process now (SIGKILL: it holds nothing worth saving) and records why. */
  kill(info: CrashInfo): void {
    if (this.ending) return;
    this.ending = info;
    this.killedBusy = this.converting > 0;
    this.child.kill('SIGKILL');
  }

  private onMessage(message: ChildMessage): void {
    this.lastHeard = performance.now();
    if (message.op === 'beat') return;
    if (message.op === 'fatal') {
      this.reported = { cause: message.cause, message: message.message };
      this.kill(this.reported);
      return;
    }
    const waiting = this.pending.get(message.re);
    if (!waiting) return;
    this.pending.delete(message.re);
    if (message.ok) waiting.resolve(message);
    else waiting.reject(asError(message.error));
  }

  private check(): void {
    if (this.ending) return;
    if (this.pending.size > 0 && performance.now() - this.lastHeard > this.settings.silenceMs) {
      this.kill({ cause: 'hang', message: `the converter process stopped answering for ${this.settings.silenceMs} ms` });
      return;
    }
    const rss = residentBytes(this.child.pid);
    if (rss !== undefined && rss > this.settings.memoryMb * 1024 * 1024) {
      this.kill({
        cause: 'memory',
        message: `the converter process grew to ${Math.round(rss / 2 ** 20)} MiB, over its limit of ${this.settings.memoryMb} MiB`,
      });
    }
  }
}

function asError(failure: ConverterFailure): Error {
  return new ConverterError(failure.kind, failure.message);
}

/** Resident set size of a process (Linux /proc); undefined where that is not available. */
function residentBytes(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(fields[1]) * PAGE;
  } catch {
    return undefined;
  }
}
