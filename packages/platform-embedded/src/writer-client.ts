import { Worker } from 'node:worker_threads';
import { DeliveryError, type Logger } from '@tbi/plugin-api';
import {
  deserializeError, type WriterMessage, type WriterRequest, type WriterResults, type WriterSettings,
} from './writer-protocol.js';

type Op = WriterRequest['op'];
type Args<O extends Op> = Omit<Extract<WriterRequest, { op: O }>, 'id' | 'op'>;

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

// Under vitest the package runs from its TypeScript sources (no build). A worker thread is a
// plain Node.js thread that vitest does not transform, so it loads the sources through module
// hooks: `.js` imports are resolved to the `.ts` files next to them, workspace packages through
// their "@tbi/source" export condition, and the types are stripped by Node.
const SOURCE_BOOTSTRAP = `
const { registerHooks, stripTypeScriptTypes } = require('node:module');
const { readFileSync } = require('node:fs');
const { fileURLToPath } = require('node:url');
const { workerData } = require('node:worker_threads');
registerHooks({
  resolve(specifier, context, nextResolve) {
    const ctx = { ...context, conditions: ['@tbi/source', ...context.conditions] };
    try {
      return nextResolve(specifier, ctx);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return nextResolve(specifier.slice(0, -3) + '.ts', ctx);
      throw error;
    }
  },
  load(url, context, nextLoad) {
    if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
    const source = stripTypeScriptTypes(readFileSync(fileURLToPath(url), 'utf8'), { mode: 'transform', sourceUrl: url });
    return { format: 'module', source, shortCircuit: true };
  },
});
import(workerData.entry);
`;

/**
 * The main thread's handle on the writer thread (`writer-thread.ts`): sends requests, settles
 * their promises from the answers, and rebuilds errors with their class, code and context.
 * Requests made in the same synchronous run (e.g. `Promise.all` of several `ingest` calls) go
 * in one message: each message costs a wake-up of the thread. Requests sent apart are grouped
 * by the writer thread if they arrive before its next commit.
 * The thread keeps the process alive only while a request is outstanding.
 */
export class WriterClient {
  private readonly waiting = new Map<number, Waiting>();
  private outbox: WriterRequest[] = [];
  private scheduled = false;
  private nextId = 1;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker, private readonly logger: Logger) {
    worker.on('message', (messages: WriterMessage[]) => {
      for (const message of messages) this.receive(message);
    });
    worker.on('error', (error) => this.stopped(error));
    worker.on('exit', (code) => this.stopped(new Error(`the writer thread exited (code ${code})`)));
    worker.unref();
  }

  /** Starts the thread and resolves once it has opened its connection. */
  static start(settings: WriterSettings, logger: Logger): Promise<WriterClient> {
    const here = import.meta.url;
    const fromSource = here.endsWith('.ts');
    const entry = new URL(fromSource ? './writer-thread.ts' : './writer-thread.js', here);
    const worker = fromSource
      ? new Worker(SOURCE_BOOTSTRAP, { eval: true, workerData: { ...settings, entry: entry.href } })
      : new Worker(entry, { workerData: settings });
    return new Promise((resolve, reject) => {
      const early = (error: Error) => reject(error);
      worker.once('error', early);
      worker.once('exit', (code) => reject(new Error(`the writer thread exited while starting (code ${code})`)));
      const onMessage = ([message]: WriterMessage[]) => {
        if (message?.type === 'failed') {
          worker.off('message', onMessage);
          reject(deserializeError(message.error));
          void worker.terminate();
        } else if (message?.type === 'ready') {
          worker.off('message', onMessage);
          worker.off('error', early);
          worker.removeAllListeners('exit');
          resolve(new WriterClient(worker, logger));
        }
      };
      worker.on('message', onMessage);
    });
  }

  /**
   * Sends a request (in a microtask, with the others made in the same synchronous run, in
   * order). Rejects with a retryable `DeliveryError` if the thread has stopped, or with a
   * non-retryable one if the request cannot be copied to the thread (structured clone).
   */
  request<O extends Op>(op: O, args: Args<O>): Promise<WriterResults[O]> {
    if (this.failure !== undefined) {
      return Promise.reject(new DeliveryError(`embedded platform: the writer thread stopped: ${this.failure.message}`, {
        cause: this.failure, retryable: true,
      }));
    }
    const id = this.nextId++;
    if (this.waiting.size === 0) this.worker.ref();
    this.outbox.push({ ...args, op, id } as WriterRequest);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.post());
    }
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  private post(): void {
    this.scheduled = false;
    if (this.outbox.length === 0) return;
    const requests = this.outbox;
    this.outbox = [];
    try {
      this.worker.postMessage(requests);
    } catch {
      // One request cannot be cloned (a function or a symbol in a value…): send the others alone
      // and reject that one.
      for (const request of requests) {
        try {
          this.worker.postMessage([request]);
        } catch (error) {
          this.settle(request.id, new DeliveryError(`embedded platform: ${request.op} failed: ${(error as Error).message}`, {
            cause: error, retryable: false, context: { operation: request.op },
          }));
        }
      }
    }
  }

  /** Ends the thread (after a `close` request has been answered). */
  async terminate(): Promise<void> {
    this.failure ??= new Error('closed');
    await this.worker.terminate();
  }

  private receive(message: WriterMessage): void {
    if (message.type === 'log') {
      this.logger[message.level](message.fields, message.msg);
      return;
    }
    if (message.type === 'result') this.settle(message.id, undefined, message.value);
    else if (message.type === 'error') this.settle(message.id, deserializeError(message.error));
  }

  private settle(id: number, error: Error | undefined, value?: unknown): void {
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return;
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker.unref();
    if (error === undefined) waiting.resolve(value);
    else waiting.reject(error);
  }

  private stopped(error: Error): void {
    if (this.failure === undefined) this.logger.error({ err: error }, 'embedded platform: the writer thread stopped');
    this.failure ??= error;
    // Whether the last group committed is unknown: the callers retry, and the dedup of
    // (integration, sourceId) keeps what did commit from being stored twice.
    for (const waiting of this.waiting.values()) {
      waiting.reject(new DeliveryError(`embedded platform: the writer thread stopped: ${error.message}`, { cause: error, retryable: true }));
    }
    this.waiting.clear();
    this.outbox = [];
  }
}
