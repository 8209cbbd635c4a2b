/**
 * Lets the main thread's small writes (command status, attributes, RPCs) go before the writer
 * thread's next transaction. Both connections write the same database, and SQLite hands the
 * write lock to whoever asks while it is free: under continuous ingest the writer thread would
 * nearly always hold it, and the main thread, polling at the busy handler's intervals, could wait
 * its full `busyTimeoutMs` (blocking the event loop) and fail. Here the main thread raises a
 * counter in shared memory; the writer thread checks it before each BEGIN and waits while it is
 * raised, so the main thread waits for one writer transaction at most.
 */
export class WriteGate {
  private readonly waiting: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.waiting = new Int32Array(buffer);
  }

  /** Main thread: runs `fn` (a write) with the writer thread held off its next transaction. */
  run<T>(fn: () => T): T {
    Atomics.add(this.waiting, 0, 1);
    try {
      return fn();
    } finally {
      Atomics.sub(this.waiting, 0, 1);
      Atomics.notify(this.waiting, 0);
    }
  }

  /**
   * Writer thread: before BEGIN, waits while the main thread is writing. Bounded, so that a main
   * thread stuck inside `run` can never stop ingest for good (the busy timeout decides then).
   */
  yield(maxWaitMs = 1000): void {
    const deadline = Date.now() + maxWaitMs;
    for (let n = Atomics.load(this.waiting, 0); n > 0; n = Atomics.load(this.waiting, 0)) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(this.waiting, 0, n, left);
    }
  }
}
