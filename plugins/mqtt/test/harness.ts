// In-process harness: the plugin's real `create()` with a real `IntegrationContext` whose
// `uplink.submit` records what it gets and "stores" it, and whose platform a test can switch to
// "down" (submits wait, as the real pipeline does while the platform fails) or "shutdown"
// (submits reject with ShutdownError, as when the host stops). Brokers are the real Mosquitto.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ShutdownError, type Integration, type IntegrationContext, type RawMessage, type UplinkOutcome } from '@tbi/plugin-api';
import { bareContext, eventually, memoryLogger, memoryMetrics, uniqueName, type MemoryLogger, type MemoryMetrics } from '@tbi/plugin-testkit';
import { mqttConfigSchema, type MqttConfig, type MqttConfigInput } from '../src/config.js';
import plugin from '../src/plugin.js';

/** `up`: store at once; `down`: submits wait until the platform is up again; `shutdown`: reject. */
export type PlatformMode = 'up' | 'down' | 'shutdown';

export interface Harness {
  integration: Integration;
  config: MqttConfig;
  ctx: IntegrationContext<MqttConfig>;
  logger: MemoryLogger;
  metrics: MemoryMetrics;
  /** Every message submitted, in order. */
  submitted: RawMessage[];
  /** Messages whose submit resolved ("stored"), in order. */
  stored: RawMessage[];
  /** Messages the connector dead-lettered itself (`uplink.reject`), with the reason. */
  rejected: { message: RawMessage; reason: string }[];
  /** Sizes of the submit calls (micro-batches). */
  batches: number[];
  platform: PlatformMode;
  setPlatform(mode: PlatformMode): void;
  /** Payloads of stored messages as UTF-8 strings. */
  storedTexts(): string[];
  /** Stops the integration (as the host does), then the harness. */
  stop(): Promise<void>;
}

export interface HarnessOptions {
  name?: string;
  /** Reuse a data dir (and so the generated client ID) of an earlier harness. */
  dataDir?: string;
  platform?: PlatformMode;
}

/** Creates and starts one `mqtt` integration in-process. */
export async function startHarness(input: MqttConfigInput, options: HarnessOptions = {}): Promise<Harness> {
  const config = mqttConfigSchema.parse(input);
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'tbi-mqtt-')));
  const logger = memoryLogger();
  const metrics = memoryMetrics();
  const abort = new AbortController();
  const waiting = new Set<{ resolve: () => void; reject: (e: Error) => void }>();

  const h = {
    submitted: [] as RawMessage[],
    stored: [] as RawMessage[],
    batches: [] as number[],
    /** Messages the connector dead-lettered itself (`uplink.reject`), with the reason. */
    rejected: [] as { message: RawMessage; reason: string }[],
    platform: options.platform ?? ('up' as PlatformMode),
  };

  const ctx = bareContext<MqttConfig>({
    name: options.name ?? 'mqtt-test',
    type: 'mqtt',
    config,
    logger,
    metrics,
    uplink: {
      async submit(messages): Promise<UplinkOutcome[]> {
        if (h.platform === 'shutdown') throw new ShutdownError();
        h.submitted.push(...messages);
        h.batches.push(messages.length);
        while (h.platform === 'down') {
          // Like the real pipeline: wait while the platform is down, reject only when stopping.
          await new Promise<void>((resolve, reject) => waiting.add({ resolve, reject }));
        }
        h.stored.push(...messages);
        return messages.map(() => ({ status: 'stored', records: [] }));
      },
      async reject(messages, reason): Promise<void> {
        h.rejected.push(...messages.map((message) => ({ message, reason })));
      },
    },
    dataDir,
    signal: abort.signal,
  });

  const integration = await plugin.create(ctx);
  await integration.start();
  let stopped = false;
  return Object.assign(h, {
    integration,
    config,
    ctx,
    logger,
    metrics,
    setPlatform(mode: PlatformMode) {
      h.platform = mode;
      const wake = [...waiting];
      waiting.clear();
      for (const w of wake) {
        if (mode === 'shutdown') w.reject(new ShutdownError());
        else w.resolve();
      }
    },
    storedTexts: () => h.stored.map((m) => Buffer.from(m.payload).toString('utf8')),
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      const stopping = integration.stop();
      // As the host does after integration.stop(): whatever is still waiting is released.
      setTimeout(() => this.setPlatform('shutdown'), config.stopGraceMs + 100).unref();
      await stopping;
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  });
}

/** A topic prefix of its own for each test, so persistent sessions of earlier runs never match. */
export function uniquePrefix(label: string): string {
  return uniqueName(`tbi-test/${label}`, '/');
}

export { eventually };
