import type { ProcessSettings } from './converter-process.js';

/** Defaults of a converter process's settings (see `ConverterSandboxOptions`). */
export const DEFAULT_PROCESS_SETTINGS: Omit<ProcessSettings, 'poolSize'> = {
  hangFactor: 2,
  hangMarginMs: 1000,
  maxReplyChars: 64 * 1024 * 1024,
  memoryMb: 1024,
  silenceMs: 5000,
};
