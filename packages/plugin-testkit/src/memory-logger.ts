import type { Logger } from '@tbi/plugin-api';

/** One log call, as a test sees it. */
export interface LogEntry {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  msg: string | undefined;
  obj: object;
}

/** A logger that keeps every line in memory (children share the list, with their bindings). */
export interface MemoryLogger extends Logger {
  readonly entries: LogEntry[];
}

/** Makes a `MemoryLogger`; `echo` also prints warnings and errors (useful when a test fails). */
export function memoryLogger(options: { echo?: boolean } = {}, entries: LogEntry[] = [], bindings: object = {}): MemoryLogger {
  const at = (level: LogEntry['level']) => (obj: object, msg?: string) => {
    entries.push({ level, msg, obj: { ...bindings, ...obj } });
    if (options.echo && (level === 'warn' || level === 'error')) console.error(`[${level}] ${msg ?? ''}`, obj);
  };
  return {
    entries,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => memoryLogger(options, entries, { ...bindings, ...more }),
  };
}
