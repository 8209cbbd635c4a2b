import type { ConverterLimits, ConverterSandbox, DownlinkConverter, IntegrationHealth, UplinkConverter } from '@tbi/plugin-api';
import { resolveLimits } from '../limits.js';
import { isConverterProcessCrash, type CrashInfo, type ProcessSettings } from './converter-process.js';
import { ProcessPool, type RestartEvent } from './process-pool.js';
import { RemoteConverter } from './remote-converter.js';

/** What `stats()` reports about the converter processes. */
export interface SandboxStats {
  /** Processes that ended unexpectedly (and were replaced), pool and retry processes alike. */
  restarts: number;
  /** The same, by cause: `abort`, `exit`, `hang`, `memory`, `catastrophic`. */
  restartsByCause: Record<string, number>;
  last?: RestartEvent;
  processes: Array<{ slot: number; pid: number | undefined; running: boolean; restarts: number }>;
  /** After `dispose()`: processes that were killed in the middle of a conversion. */
  killedBusy: number;
}

/** Options of the process sandbox (resolved by `createConverterSandbox`). */
export interface ProcessSandboxOptions {
  processes: number;
  settings: ProcessSettings;
  defaultLimits?: Partial<ConverterLimits> | undefined;
  clock?: (() => number) | undefined;
  onRestart?: ((event: RestartEvent) => void) | undefined;
  /** How long an integration whose message ended a process shows as degraded, in ms. */
  degradedMs: number;
}

/**
 * The converter sandbox with converters in supervised child processes (see
 * `createConverterSandbox`): the public `ConverterSandbox` plus restart statistics and the health
 * of the integrations whose messages ended a process.
 */
export function createProcessSandbox(options: ProcessSandboxOptions) {
  let nextId = 0;
  let restarts = 0;
  const byCause: Record<string, number> = {};
  let last: RestartEvent | undefined;
  let killedBusy = 0;
  const culprits = new Map<string, RestartEvent & { count: number }>();
  const converters = new Set<RemoteConverter<unknown, unknown>>();

  const record = (info: CrashInfo, converter?: string) => {
    restarts++;
    byCause[info.cause] = (byCause[info.cause] ?? 0) + 1;
    last = { ...info, at: Date.now(), ...(converter === undefined ? {} : { converter }) };
    options.onRestart?.(last);
    return last;
  };
  const pool = new ProcessPool(options.processes, options.settings, (info, slot) => {
    if (slot !== undefined) record(info);
  });
  const hooks = {
    onCulprit(converter: string, info: CrashInfo) {
      const event = record(info, converter);
      const integration = converter.split('/')[0] as string;
      culprits.set(integration, { ...event, count: (culprits.get(integration)?.count ?? 0) + 1 });
    },
    onDispose(converter: RemoteConverter<unknown, unknown>) {
      converters.delete(converter);
    },
    ...(options.clock ? { clock: options.clock } : {}),
  };

  async function make<I, R>(kind: 'uplink' | 'downlink', name: string, source: string, limits?: Partial<ConverterLimits>): Promise<RemoteConverter<I, R>> {
    const converter = new RemoteConverter<I, R>(pool, { id: ++nextId, kind, name, source, limits: resolveLimits(options.defaultLimits, limits) }, hooks);
    try {
      await converter.load();
    } catch (error) {
      // A process that ends while compiling is tried once more in a fresh one.
      if (!isConverterProcessCrash(error)) throw error;
      await converter.load();
    }
    converters.add(converter as RemoteConverter<unknown, unknown>);
    return converter;
  }

  const sandbox = {
    uplink: (name, source, limits) => make('uplink', name, source, limits) as Promise<UplinkConverter>,
    downlink: (name, source, limits) => make('downlink', name, source, limits) as Promise<DownlinkConverter>,
  } satisfies ConverterSandbox;

  return {
    ...sandbox,
    /** Restart counts and the last cause. */
    stats(): SandboxStats {
      return { restarts, restartsByCause: { ...byCause }, ...(last ? { last } : {}), processes: pool.processes(), killedBusy };
    },
    /**
     * `degraded` for a while after a message of this integration ended its converter process,
     * with the cause; undefined otherwise.
     */
    integrationHealth(integration: string): IntegrationHealth | undefined {
      const event = culprits.get(integration);
      if (event === undefined || Date.now() - event.at > options.degradedMs) return undefined;
      const ago = Math.round((Date.now() - event.at) / 1000);
      return {
        status: 'degraded',
        detail: `a message ended its converter process ${ago} s ago (${event.cause}: ${event.message}); it was dead-lettered and the process restarted (${event.count} time${event.count === 1 ? '' : 's'})`,
      };
    },
    async dispose(): Promise<void> {
      // Processes first: whatever they are doing, they end now (in-flight batches fail as
      // disposed); the converters then have nothing left to tell them.
      killedBusy += await pool.dispose();
      await Promise.all([...converters].map((c) => c.dispose().catch(() => undefined)));
    },
  };
}
