import { Writable } from 'node:stream';
import pino, { type DestinationStream, type Level } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '@tbi/plugin-api';
import { logMethodWithUniqueKeys, withUniqueKeys } from './unique-keys.js';

/** Options of `createLogger`. */
export interface LoggerOptions {
  level?: Level | 'silent';
  /** Human-readable lines instead of JSON; default: when stdout is a TTY. */
  pretty?: boolean;
  /** Masks secrets in every line (see `createRedactor`). */
  redact?: (text: string) => string;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

/**
 * The host's pino logger: one JSON line per event, or pretty lines in a terminal. Every line
 * passes through `redact`, so a value taken from the environment never reaches the log, wherever
 * a plugin puts it. Each key appears once per line, however often child loggers and calls repeat
 * it (see `withUniqueKeys`).
 */
export function createLogger(options: LoggerOptions = {}): Logger & pino.Logger {
  const redact = options.redact ?? ((text: string) => text);
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  const target: DestinationStream =
    options.destination ??
    (usePretty
      ? pretty({ colorize: process.stdout.isTTY === true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : pino.destination({ sync: true }));
  const root: pino.Logger = pino(
    {
      level: options.level ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
      hooks: { streamWrite: (line) => redact(line), logMethod: logMethodWithUniqueKeys(() => root) },
    },
    target,
  );
  return withUniqueKeys(root);
}

/** A logger that keeps JSON lines in memory, for tests. */
export function createMemoryLogger(level: Level = 'debug'): { logger: Logger & pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger: pino.Logger = withUniqueKeys(pino({ level, base: {}, hooks: { logMethod: logMethodWithUniqueKeys(() => logger) } }, sink));
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
