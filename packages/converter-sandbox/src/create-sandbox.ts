import os from 'node:os';
import type { ConverterSandbox, IntegrationHealth } from '@tbi/plugin-api';
import { createInProcessSandbox, type InProcessSandboxOptions } from './in-process-sandbox.js';
import { LIMIT_RANGES, resolveLimits } from './limits.js';
import { DEFAULT_PROCESS_SETTINGS } from './process/process-defaults.js';
import type { RestartEvent } from './process/process-pool.js';
import { createProcessSandbox, type SandboxStats } from './process/process-sandbox.js';

/** Options of `createConverterSandbox`. */
export interface ConverterSandboxOptions extends InProcessSandboxOptions {
  /**
   * Converter processes (default 2, or 1 on a one-core machine). Each integration's converters
   * live in one of them, chosen by its name; a process that aborts, hangs or exhausts memory is
   * killed and restarted without touching the host. `0` runs the isolates in the calling process
   * (a V8 fatal error of a converter then ends that process: for tools and benchmarks only).
   */
  processes?: number;
  /** Memory of one converter process (its V8 heap limit, and the resident size at which it is killed), MiB. Default 1024. */
  processMemoryMb?: number;
  /** Called when a converter process ended unexpectedly (it is replaced on next use). */
  onRestart?: (event: RestartEvent) => void;
  /** How long an integration whose message ended a process reports `degraded`, in ms (default 60 s). */
  degradedMs?: number;
}

/** The sandbox plus restart statistics, integration health, and a way to free everything. */
export type ConverterSandboxHandle = ConverterSandbox & {
  /** Restarts of converter processes, by cause, and the processes' pids. */
  stats(): SandboxStats;
  /** `degraded` for a while after a message of the integration ended a converter process. */
  integrationHealth(integration: string): IntegrationHealth | undefined;
  /** Disposes every converter and ends every converter process. */
  dispose(): Promise<void>;
};

/**
 * Creates the converter sandbox the host registers under `TOKENS.ConverterSandbox`. Converters
 * run in isolated-vm isolates inside supervised child processes; each converter has its own
 * isolates, so one converter's timeout or tampering never touches another, and one that brings
 * down its process costs a restart and a dead letter, never the host.
 *
 * @example
 * const sandbox = createConverterSandbox({ defaultLimits: { timeoutMs: 200 } });
 * const decoder = await sandbox.uplink('mqtt-in', 'var d = decodeToJson(payload); return {deviceName: d.id, deviceType: "t", telemetry: d};');
 * const [result] = await decoder.run([{ payload: new TextEncoder().encode('{"id":"A","t":1}'), metadata: {} }]);
 * await sandbox.dispose();
 */
export function createConverterSandbox(options: ConverterSandboxOptions = {}): ConverterSandboxHandle {
  const processes = options.processes ?? Math.min(2, os.availableParallelism());
  if (!Number.isInteger(processes) || processes < 0 || processes > 64) {
    throw new RangeError(`processes must be an integer from 0 to 64, got ${processes}`);
  }
  const poolSize = options.poolSize ?? Math.min(2, os.availableParallelism());
  if (!Number.isInteger(poolSize) || poolSize < LIMIT_RANGES.poolSize[0] || poolSize > LIMIT_RANGES.poolSize[1]) {
    throw new RangeError(`poolSize must be an integer from ${LIMIT_RANGES.poolSize[0]} to ${LIMIT_RANGES.poolSize[1]}, got ${poolSize}`);
  }
  resolveLimits(options.defaultLimits, undefined);
  if (processes === 0) {
    return {
      ...createInProcessSandbox(options),
      stats: () => ({ restarts: 0, restartsByCause: {}, processes: [], killedBusy: 0 }),
      integrationHealth: () => undefined,
    };
  }
  const memoryMb = options.processMemoryMb ?? DEFAULT_PROCESS_SETTINGS.memoryMb;
  if (!Number.isInteger(memoryMb) || memoryMb < 64) throw new RangeError(`processMemoryMb must be an integer of at least 64, got ${memoryMb}`);
  return createProcessSandbox({
    processes,
    settings: { ...DEFAULT_PROCESS_SETTINGS, poolSize, memoryMb },
    defaultLimits: options.defaultLimits,
    clock: options.clock,
    onRestart: options.onRestart ?? ((event) => options.logger?.warn({ ...event }, `converter process restarted: ${event.message}`)),
    degradedMs: options.degradedMs ?? 60_000,
  });
}
