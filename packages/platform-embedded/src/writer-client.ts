import { Worker } from 'node:worker_threads';
import { DeliveryError, ShutdownError, type Logger } from '@tbi/plugin-api';
import { deserializeError, type WriterMessage, type WriterRequest, type WriterResults, type WriterSettings } from './writer-protocol.js';

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
 * The thread keeps the process alive only while a request is outstanding. If it dies, the
 * requests in progress fail (retryable) and the next request starts a new one.
 */
export class WriterClient {
  private readonly waiting = new Map<number, Waiting>();
  private outbox: WriterRequest[] = [];
  private scheduled = false;
  private nextId = 1;
  private worker: Worker | undefined;
  private closed = false;

  private constructor(
    private readonly settings: WriterSettings,
    private readonly logger: Logger,
  ) {}

  /** Starts the thread and resolves once it has opened its connection (or rejects why not). */
  static async start(settings: WriterSettings, logger: Logger): Promise<WriterClient> {
    const client = new WriterClient(settings, logger);
    await client.request('ready', {});
    return client;
  }

  /**
   * Sends a request (in a microtask, with the others made in the same synchronous run, in
   * order). Rejects with a retryable `DeliveryError` if the thread stops before answering, or
   * with a non-retryable one if the request cannot be copied to the thread (structured clone).
   */
  request<O extends Op>(op: O, args: Args<O>): Promise<WriterResults[O]> {
    if (this.closed) return Promise.reject(new ShutdownError('the embedded platform is closed'));
    // Messages posted before the new thread listens wait in its port.
    this.worker ??= this.spawn();
    const id = this.nextId++;
    if (this.waiting.size === 0) this.worker.ref();
    this.outbox.push({ ...args, op, id } as WriterRequest);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.post());
    }
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  /** Ends the thread (after a `close` request has been answered). */
  async terminate(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private spawn(): Worker {
    const here = import.meta.url;
    const fromSource = here.endsWith('.ts');
    const entry = new URL(fromSource ? './writer-thread.ts' : './writer-thread.js', here);
    const worker = fromSource
      ? new Worker(SOURCE_BOOTSTRAP, { eval: true, workerData: { ...this.settings, entry: entry.href } })
      : new Worker(entry, { workerData: this.settings });
    worker.on('message', (messages: WriterMessage[]) => {
      for (const message of messages) this.receive(message);
    });
    worker.on('error', (error) => this.stopped(worker, error));
    worker.on('exit', (code) => this.stopped(worker, new Error(`the writer thread exited (code ${code})`)));
    worker.unref();
    return worker;
  }

  private post(): void {
    this.scheduled = false;
    const requests = this.outbox;
    this.outbox = [];
    if (requests.length === 0 || this.worker === undefined) return;
    try {
      this.worker.postMessage(requests);
    } catch {
      // One request cannot be cloned (a function or a symbol in a value…): send the others alone
      // and reject that one.
      for (const request of requests) {
        try {
          this.worker.postMessage([request]);
        } catch (error) {
          this.settle(
            request.id,
            new DeliveryError(`embedded platform: ${request.op} failed: ${(error as Error).message}`, {
              cause: error,
              retryable: false,
              context: { operation: request.op },
            }),
          );
        }
      }
    }
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
    if (this.waiting.size === 0) this.worker?.unref();
    if (error === undefined) waiting.resolve(value);
    else waiting.reject(error);
  }

  private stopped(worker: Worker, error: Error): void {
    if (this.worker !== worker) return; // terminated by `terminate`, or already replaced
    this.worker = undefined;
    void worker.terminate();
    if (!this.closed) this.logger.error({ err: error }, 'embedded platform: the writer thread stopped; the next call starts a new one');
    // Whether the last group committed is unknown: the callers retry, and the dedup of
    // (integration, sourceId) keeps what did commit from being stored twice.
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    this.outbox = [];
    for (const w of waiting) {
      w.reject(new DeliveryError(`embedded platform: the writer thread stopped: ${error.message}`, { cause: error, retryable: true }));
    }
  }
}
