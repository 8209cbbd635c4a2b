import os from 'node:os';
import type { ConverterLimits, ConverterSandbox, DownlinkConverter, Logger, UplinkConverter } from '@tbi/plugin-api';
import { resolveLimits } from './limits.js';
import { createPool, SandboxDownlinkConverter, SandboxUplinkConverter, type ConverterSettings } from './sandbox-converter.js';

/** Options of `createInProcessSandbox` (also the part of `createConverterSandbox`'s options each process uses). */
export interface InProcessSandboxOptions {
  /** Limits for converters that set none: default 100 ms per batch call and 64 MiB. */
  defaultLimits?: Partial<ConverterLimits>;
  /**
   * Isolates per converter, each on its own thread: more than one lets big batches (and
   * concurrent batches) use several cores. Default: 2, or 1 on a one-core machine.
   */
  poolSize?: number;
  /** Where isolated-vm's catastrophic errors are reported (default: stderr). */
  logger?: Logger;
  /**
   * Called when isolated-vm reports that V8 lost control of an isolate. isolated-vm advises to
   * stop serving and end the process; the host decides. Default: log it at error level.
   */
  onCatastrophicError?: (message: string) => void;
  /** Time source for `receivedAt` defaults (tests). */
  clock?: () => number;
}

/** The sandbox plus a way to free every isolate it made. */
export type InProcessSandboxHandle = ConverterSandbox & {
  /** Disposes every converter made by this sandbox. */
  dispose(): Promise<void>;
};

/**
 * The isolates of every converter in the calling process: what each converter process runs
 * (see `process/converter-child.ts`), and `createConverterSandbox({ processes: 0 })`. Each
 * converter gets its own isolates (`poolSize` of them), so one converter's timeout or tampering
 * never touches another; a V8 fatal error, though, ends the calling process.
 */
export function createInProcessSandbox(options: InProcessSandboxOptions = {}): InProcessSandboxHandle {
  const poolSize = options.poolSize ?? Math.min(2, os.availableParallelism());
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 64) {
    throw new RangeError(`poolSize must be an integer from 1 to 64, got ${poolSize}`);
  }
  resolveLimits(options.defaultLimits, undefined);
  const converters = new Set<{ dispose(): Promise<void> }>();
  const onCatastrophicError =
    options.onCatastrophicError ??
    ((message: string) => {
      if (options.logger) options.logger.error({ error: message }, 'isolated-vm catastrophic error: the process should be restarted');
      else process.stderr.write(`isolated-vm catastrophic error: ${message}\n`);
    });

  function settings(kind: 'uplink' | 'downlink', name: string, limits?: Partial<ConverterLimits>): ConverterSettings {
    return {
      kind,
      name,
      limits: resolveLimits(options.defaultLimits, limits),
      poolSize,
      onCatastrophicError,
      ...(options.clock ? { clock: options.clock } : {}),
    };
  }
  const forget = (c: object) => {
    converters.delete(c as { dispose(): Promise<void> });
  };

  return {
    async uplink(name, source, limits): Promise<UplinkConverter> {
      const s = settings('uplink', name, limits);
      const converter = new SandboxUplinkConverter(s, await createPool(s, source), forget);
      converters.add(converter);
      return converter;
    },
    async downlink(name, source, limits): Promise<DownlinkConverter> {
      const s = settings('downlink', name, limits);
      const converter = new SandboxDownlinkConverter(s, await createPool(s, source), forget);
      converters.add(converter);
      return converter;
    },
    async dispose() {
      await Promise.all([...converters].map((c) => c.dispose()));
    },
  };
}
