// Test doubles for unit tests of the pipeline modules (one module at a time). The end-to-end tests
// in host/test/pipeline-*.test.ts use the real embedded platform and the real converter sandbox.
import type {
  Clock,
  Counter,
  DeviceRecord,
  DownlinkConverter,
  DownlinkRequest,
  DownlinkResult,
  Gauge,
  Histogram,
  IngestItem,
  Labels,
  Logger,
  Metrics,
  PlatformClient,
  PlatformCommand,
  UplinkConverter,
  UplinkInput,
  UplinkResult,
} from '@tbi/plugin-api';
import { DeliveryError } from '@tbi/plugin-api';

export interface LogLine {
  level: string;
  obj: object;
  msg?: string;
}

/** A logger that keeps every line. */
export function recordingLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const make = (bindings: Record<string, unknown>): Logger & { lines: LogLine[] } => {
    const log = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj: { ...bindings, ...obj }, msg });
    return {
      lines,
      trace: log('trace'),
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make({});
}

/** Metrics kept in a map: `value('tbi_x_total', {integration: 'a'})`. */
export class RecordingMetrics implements Metrics {
  readonly values = new Map<string, number>();
  readonly observations = new Map<string, number[]>();

  static key(name: string, labels: Labels = {}): string {
    return `${name}${JSON.stringify(Object.entries(labels).sort())}`;
  }

  value(name: string, labels?: Labels): number {
    return this.values.get(RecordingMetrics.key(name, labels)) ?? 0;
  }

  counter(name: string): Counter {
    return { inc: (labels, value = 1) => this.#add(name, labels, value) };
  }

  gauge(name: string): Gauge {
    return {
      set: (labels, value) => this.values.set(RecordingMetrics.key(name, labels), value),
      inc: (labels, value = 1) => this.#add(name, labels, value),
      dec: (labels, value = 1) => this.#add(name, labels, -value),
    };
  }

  histogram(name: string): Histogram {
    return {
      observe: (labels, value) => {
        const key = RecordingMetrics.key(name, labels);
        this.observations.set(key, [...(this.observations.get(key) ?? []), value]);
      },
    };
  }

  #add(name: string, labels: Labels | undefined, value: number): void {
    const key = RecordingMetrics.key(name, labels);
    this.values.set(key, (this.values.get(key) ?? 0) + value);
  }
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * An uplink converter running a plain function in-process. `decode` returns the records of one
 * message or throws; the batch sizes it was called with are kept.
 */
export function functionConverter(
  decode: (input: UplinkInput) => DeviceRecord[],
  options: { name?: string; delayMs?: number } = {},
): UplinkConverter & { batches: number[]; setDecode(fn: typeof decode): void } {
  let current = decode;
  let version = 1;
  const batches: number[] = [];
  return {
    name: options.name ?? 'fn',
    get version() {
      return version;
    },
    batches,
    setDecode(fn) {
      current = fn;
      version++;
    },
    async run(batch) {
      batches.push(batch.length);
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      return batch.map((input): UplinkResult => {
        try {
          const records = current(input);
          return { ok: true, records, output: records, logs: [] };
        } catch (error) {
          return { ok: false, error: { kind: 'THREW', message: (error as Error).message }, logs: [{ level: 'error', message: 'boom' }] };
        }
      });
    },
    async replace() {
      version++;
    },
    async dispose() {},
  };
}

/** A downlink converter from a plain function. */
export function functionDownlinkConverter(encode: (request: DownlinkRequest) => DownlinkResult): DownlinkConverter {
  return {
    name: 'down',
    version: 1,
    run: async (batch) => batch.map(encode),
    replace: async () => {},
    dispose: async () => {},
  };
}

/** Parses `{"device": "...", "t": 1}` payloads into one record. */
export function jsonDecode(input: UplinkInput): DeviceRecord[] {
  const body = JSON.parse(Buffer.from(input.payload).toString('utf8')) as { device: string; t?: number };
  return [{ entityType: 'DEVICE', deviceName: body.device, deviceType: 'sensor', attributes: {}, telemetry: [{ ts: 1, values: { t: body.t ?? 0 } }] }];
}

export function message(device: string, t = 1, extra: { sourceId?: string; metadata?: Record<string, string> } = {}) {
  return {
    payload: Buffer.from(JSON.stringify({ device, t })),
    metadata: extra.metadata ?? { topic: `d/${device}` },
    ...(extra.sourceId ? { sourceId: extra.sourceId } : {}),
  };
}

/**
 * An in-memory platform for unit tests: records every ingest call; `failures` makes the next N
 * calls throw a retryable `DeliveryError`; `gate` holds every ingest until opened.
 */
export class MemoryPlatform implements PlatformClient {
  readonly calls: IngestItem[][] = [];
  readonly stored: IngestItem[] = [];
  readonly results: { id: string; result: { ok: true } | { ok: false; error: string } }[] = [];
  failures = 0;
  reject: ((item: IngestItem) => boolean) | undefined;
  gate: Promise<void> | undefined;
  #handlers = new Set<(command: PlatformCommand) => void>();

  async ingest(items: readonly IngestItem[]): Promise<{ stored: number; duplicates: number }> {
    this.calls.push([...items]);
    if (this.gate) await this.gate;
    if (this.failures > 0) {
      this.failures--;
      throw new DeliveryError('database is locked', { retryable: true });
    }
    if (this.reject && items.some(this.reject)) throw new DeliveryError('invalid record', { retryable: false });
    this.stored.push(...items);
    return { stored: items.length, duplicates: 0 };
  }

  onCommand(handler: (command: PlatformCommand) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  command(command: PlatformCommand): void {
    for (const h of this.#handlers) h(command);
  }

  commandResult(id: string, result: { ok: true } | { ok: false; error: string }): void {
    this.results.push({ id, result });
  }
}

/** Waits until `check` returns true (polling), failing after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A fresh temporary directory. */
export async function tempDir(prefix = 'tbi-pipeline-'): Promise<string> {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** Serves a Hono app on an ephemeral loopback port; returns its base URL and a closer. */
export async function serveOnLoopback(app: { fetch: (request: Request) => Response | Promise<Response> }): Promise<{ url: string; close(): Promise<void> }> {
  const { serve } = await import('@hono/node-server');
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
