import type { ConverterFailure } from '@tbi/plugin-api';
import type { CrashInfo } from './converter-process.js';

/** The failure of the one message that was found to end its converter process. */
export function crashFailure(info: CrashInfo, after = 'the process was restarted and other messages were not affected'): ConverterFailure {
  const memory = info.cause === 'memory' || /out[- ]of[- ]memory/i.test(info.message);
  const kind = info.cause === 'hang' ? 'TIMEOUT' : memory ? 'MEMORY' : 'THREW';
  return { kind, message: `the converter ended its sandbox process on this message (${info.message}); ${after}` };
}
