import {
  DeliveryError,
  type IngestItem,
  type LatestValue,
  type PlatformClient,
  type PlatformCommand,
  type PlatformDevice,
  type PlatformReads,
} from '@tbi/plugin-api';

/** `up`: store; `fail`: every ingest throws a retryable `DeliveryError`; `stall`: ingests wait. */
export type PlatformMode = 'up' | 'fail' | 'stall';

/** How a command's delivery ended, as the host reported it to the platform. */
export type CommandResult = { ok: true } | { ok: false; error: string };

type Inner = PlatformClient & PlatformReads & { close?(): Promise<void> };

/**
 * A platform a test can steer: it stores through a real platform (the embedded one) or in memory,
 * and can be told to fail or stall, the way a platform outage looks to the pipeline. It records
 * every committed item and every command result, and sends commands as the platform would.
 *
 * @example
 * platform.setMode('stall');  // submits now wait: nothing may be acknowledged
 * platform.setMode('up');     // the waiting ingests go through
 */
export class TestPlatform implements PlatformClient, PlatformReads {
  /** Items committed, in order (duplicates by `sourceId` excluded). */
  readonly committed: IngestItem[] = [];
  /** Calls of `ingest`, failed and stalled ones included. */
  ingestCalls = 0;
  readonly commandResults: Array<{ commandId: string; result: CommandResult }> = [];
  #mode: PlatformMode = 'up';
  readonly #waiting = new Set<() => void>();
  readonly #handlers = new Set<(command: PlatformCommand) => void>();
  readonly #resultWaiters = new Map<string, (result: CommandResult) => void>();
  readonly #seen = new Set<string>();
  #commands = 0;

  /** @param inner a real platform to store in (default: memory only, with `sourceId` dedup). */
  constructor(readonly inner?: Inner) {}

  get mode(): PlatformMode {
    return this.#mode;
  }

  /** Switches the mode; ingests waiting in `stall` go on under the new one. */
  setMode(mode: PlatformMode): void {
    this.#mode = mode;
    if (mode === 'stall') return;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const wake of waiting) wake();
  }

  /** Ingests waiting in `stall` right now. */
  get stalled(): number {
    return this.#waiting.size;
  }

  async ingest(items: readonly IngestItem[]): Promise<{ stored: number; duplicates: number }> {
    this.ingestCalls += 1;
    while (this.#mode === 'stall') await new Promise<void>((resolve) => this.#waiting.add(resolve));
    if (this.#mode === 'fail') throw new DeliveryError('the test platform is failing (mode "fail")');
    if (this.inner) {
      const result = await this.inner.ingest(items);
      this.committed.push(...items);
      return result;
    }
    let duplicates = 0;
    for (const item of items) {
      const key = item.sourceId === undefined ? undefined : `${item.integration}\u0000${item.sourceId}`;
      if (key !== undefined && this.#seen.has(key)) {
        duplicates += 1;
        continue;
      }
      if (key !== undefined) this.#seen.add(key);
      this.committed.push(item);
    }
    return { stored: items.length - duplicates, duplicates };
  }

  onCommand(handler: (command: PlatformCommand) => void): () => void {
    this.#handlers.add(handler);
    const off = this.inner?.onCommand(handler);
    return () => {
      this.#handlers.delete(handler);
      off?.();
    };
  }

  commandResult(commandId: string, result: CommandResult): void {
    this.commandResults.push({ commandId, result });
    const waiter = this.#resultWaiters.get(commandId);
    if (waiter) {
      this.#resultWaiters.delete(commandId);
      waiter(result);
    } else {
      this.inner?.commandResult(commandId, result);
    }
  }

  /**
   * Sends a command to the integration that carries the device, as the platform does for an RPC
   * or an attribute update, and resolves with how its delivery ended.
   */
  sendCommand(command: Omit<PlatformCommand, 'id'> & { id?: string }): Promise<CommandResult> {
    const id = command.id ?? `test-command-${++this.#commands}`;
    const result = new Promise<CommandResult>((resolve) => this.#resultWaiters.set(id, resolve));
    for (const handler of this.#handlers) handler({ ...command, id });
    return result;
  }

  async getDevice(name: string): Promise<PlatformDevice | undefined> {
    if (this.inner?.getDevice) return this.inner.getDevice(name);
    const found = [...this.committed].reverse().find((item) => item.records.some((r) => r.deviceName === name));
    const record = found?.records.find((r) => r.deviceName === name);
    if (!found || !record) return undefined;
    return { name, entityType: record.entityType, type: record.deviceType, integration: found.integration, lastSeen: Date.now() };
  }

  async latestTelemetry(name: string, keys?: readonly string[]): Promise<Record<string, LatestValue>> {
    if (this.inner?.latestTelemetry) return this.inner.latestTelemetry(name, keys);
    const latest: Record<string, LatestValue> = {};
    for (const item of this.committed) {
      for (const record of item.records.filter((r) => r.deviceName === name)) {
        for (const sample of record.telemetry) {
          for (const [key, value] of Object.entries(sample.values)) {
            if (keys && !keys.includes(key)) continue;
            if (!latest[key] || latest[key].ts <= sample.ts) latest[key] = { ts: sample.ts, value };
          }
        }
      }
    }
    return latest;
  }

  /** Lets stalled ingests fail (so nothing hangs), then closes the inner platform. */
  async close(): Promise<void> {
    this.setMode('fail');
    await this.inner?.close?.();
  }
}
