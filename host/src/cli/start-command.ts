import { Command, InvalidArgumentError, Option } from 'commander';
import { startHost, type HostHandle, type LogLevel } from '../host.js';
import { configFileFrom } from './config-option.js';
import { EXIT_USER_ERROR } from './report-error.js';

function portNumber(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return Number(value);
}

/**
 * `tbi start`: runs the host until SIGTERM or SIGINT, then shuts down cleanly within
 * `shutdownGraceMs` (exit 0), or forces the exit after it (exit 1). A second signal forces it at
 * once. Converter processes are killed whatever they are doing; exit 1 if one was converting.
 */
export function startCommand(setExitCode: (code: number) => void): Command {
  return new Command('start')
    .description('validate the config, then run the host and its integrations until SIGTERM/SIGINT')
    .option('-c, --config <file>', 'config file (YAML or JSON); default: tbi.yaml in the current directory')
    .option('-p, --port <port>', 'listen on this port instead of http.port', portNumber)
    .option('--host <host>', 'listen on this interface instead of http.host')
    .addOption(new Option('--log-level <level>', 'override log.level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']))
    .option('--pretty', 'human-readable log lines (default when stdout is a terminal)')
    .option('--no-pretty', 'JSON log lines even in a terminal')
    .action(async (opts: { config?: string; port?: number; host?: string; logLevel?: string; pretty?: boolean }) => {
      const configFile = configFileFrom(opts.config);
      let handle: HostHandle | undefined;
      let signalled: NodeJS.Signals | undefined;
      let stopped: (() => void) | undefined;
      const done = new Promise<void>((resolve) => (stopped = resolve));

      const shutdown = (signal: NodeJS.Signals) => {
        if (signalled) {
          process.stderr.write(`tbi: ${signal} again: exiting without waiting\n`);
          process.exit(EXIT_USER_ERROR);
        }
        signalled = signal;
        if (handle) void stopWithin(handle, signal);
      };
      const stopWithin = async (h: HostHandle, signal: NodeJS.Signals) => {
        const grace = setTimeout(() => {
          process.stderr.write(`tbi: shutdown took longer than shutdownGraceMs (${h.config.shutdownGraceMs} ms): exiting anyway\n`);
          process.exit(EXIT_USER_ERROR);
        }, h.config.shutdownGraceMs);
        // Not unref'd: a plugin whose stop() never settles leaves nothing else to keep the process
        // alive, and the exit must still be a deliberate one.
        await h.stop(`received ${signal}`);
        clearTimeout(grace);
        stopped?.();
      };
      process.on('SIGTERM', shutdown);
      process.on('SIGINT', shutdown);
      try {
        handle = await startHost({
          configFile,
          ...(opts.port === undefined ? {} : { port: opts.port }),
          ...(opts.host === undefined ? {} : { host: opts.host }),
          ...(opts.pretty === undefined ? {} : { pretty: opts.pretty }),
          ...(opts.logLevel ? { logLevel: opts.logLevel as LogLevel } : {}),
        });
        if (signalled) void stopWithin(handle, signalled);
        await done;
        // A converter process killed mid-conversion: the stop was forced, say so.
        setExitCode(handle.killedConverters ? EXIT_USER_ERROR : 0);
        // Everything is closed; a handle a plugin leaked must not keep the process alive.
        setTimeout(() => process.exit(0), 1000).unref();
      } finally {
        process.off('SIGTERM', shutdown);
        process.off('SIGINT', shutdown);
      }
    });
}
