import { PlatformError } from './errors.js';

interface Waiter {
  resolve: (response: unknown) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

/** Callers of two-way RPCs waiting for the device's reply, by request id. In memory only. */
export class RpcWaiters {
  private readonly waiting = new Map<string, Waiter>();

  /**
   * Waits for `reply(id)`; after `timeoutMs` calls `onTimeout` (which records the expiry) and
   * rejects with `RPC_TIMEOUT`.
   */
  wait(id: string, timeoutMs: number, onTimeout: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        onTimeout();
        reject(new PlatformError('RPC_TIMEOUT', `no reply to RPC ${id} within ${timeoutMs} ms`, { context: { requestId: id, timeoutMs } }));
      }, timeoutMs);
      // A pending RPC alone must not keep the process alive.
      timer.unref();
      this.waiting.set(id, { resolve, reject, timer });
    });
  }

  reply(id: string, response: unknown): void {
    this.settle(id)?.resolve(response);
  }

  fail(id: string, error: unknown): void {
    this.settle(id)?.reject(error);
  }

  failAll(error: unknown): void {
    for (const id of [...this.waiting.keys()]) this.fail(id, error);
  }

  get size(): number {
    return this.waiting.size;
  }

  private settle(id: string): Waiter | undefined {
    const waiter = this.waiting.get(id);
    if (waiter === undefined) return undefined;
    clearTimeout(waiter.timer);
    this.waiting.delete(id);
    return waiter;
  }
}
