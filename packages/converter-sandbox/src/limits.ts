import { ConfigError, type ConverterLimits } from '@tbi/plugin-api';

/** Limits used when neither the sandbox nor the converter sets them: 100 ms per batch call, 64 MiB. */
export const DEFAULT_LIMITS: Readonly<ConverterLimits> = Object.freeze({ timeoutMs: 100, memoryMb: 64 });

/** isolated-vm refuses heaps under 8 MiB; more than 4 GiB for one converter is a mistake. */
const MEMORY_RANGE = [8, 4096] as const;
const TIMEOUT_RANGE = [1, 600_000] as const;
/** Isolates per converter: each holds a heap of up to `memoryMb`. */
const POOL_SIZE_RANGE = [1, 64] as const;

/**
 * The ranges (inclusive) the sandbox accepts, so a host can check its config file against the
 * same numbers and point at the line instead of failing when the sandbox opens.
 */
export const LIMIT_RANGES = Object.freeze({ timeoutMs: TIMEOUT_RANGE, memoryMb: MEMORY_RANGE, poolSize: POOL_SIZE_RANGE });

/** Fills in defaults and checks the ranges; a bad value is a `ConfigError` naming the field. */
export function resolveLimits(base: Partial<ConverterLimits> | undefined, override: Partial<ConverterLimits> | undefined): ConverterLimits {
  const timeoutMs = override?.timeoutMs ?? base?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
  const memoryMb = override?.memoryMb ?? base?.memoryMb ?? DEFAULT_LIMITS.memoryMb;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < TIMEOUT_RANGE[0] || timeoutMs > TIMEOUT_RANGE[1]) {
    throw new ConfigError({
      path: 'limits.timeoutMs',
      expected: `a number of milliseconds from ${TIMEOUT_RANGE[0]} to ${TIMEOUT_RANGE[1]}`,
      received: String(timeoutMs),
    });
  }
  if (!Number.isInteger(memoryMb) || memoryMb < MEMORY_RANGE[0] || memoryMb > MEMORY_RANGE[1]) {
    throw new ConfigError({
      path: 'limits.memoryMb',
      expected: `an integer number of MiB from ${MEMORY_RANGE[0]} to ${MEMORY_RANGE[1]}`,
      received: String(memoryMb),
    });
  }
  return { timeoutMs, memoryMb };
}
