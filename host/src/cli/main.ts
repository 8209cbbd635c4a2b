import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { PLUGIN_API_VERSION } from '@tbi/plugin-api';
import { registerDlqCommands } from '../dead-letters/index.js';
import { hostVersion } from '../host-version.js';
import { convertCommand, testConvertersCommand } from './converter-commands.js';
import { eventsCommand } from './events-command.js';
import { initCommand } from './init-command.js';
import { pluginsCommand } from './plugins-command.js';
import { reloadCommand } from './reload-command.js';
import { replayCommand } from './replay-command.js';
import { reportError } from './report-error.js';
import { schemaCommand } from './schema-command.js';
import { startCommand } from './start-command.js';
import { statusCommand } from './status-command.js';
import { validateCommand } from './validate-command.js';

/** Where the CLI writes; tests capture both. */
export interface CliIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** Builds the `tbi` program. */
export function createProgram(io: CliIo = {}, setExitCode: (code: number) => void = () => {}): Command {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  const program = new Command('tbi')
    .description('tbi: an integration host that moves IoT data between messaging systems and an IoT platform')
    .version(`${hostVersion()} (plugin API ${PLUGIN_API_VERSION})`, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: out, writeErr: err })
    .exitOverride();
  program.addCommand(initCommand(out, err));
  program.addCommand(startCommand(setExitCode));
  program.addCommand(validateCommand(out));
  program.addCommand(pluginsCommand(out));
  program.addCommand(schemaCommand(out, err));
  program.addCommand(convertCommand(out, setExitCode));
  program.addCommand(testConvertersCommand(out, setExitCode));
  registerDlqCommands(program, { out: (line) => out(`${line}\n`) });
  program.addCommand(statusCommand(out, setExitCode));
  program.addCommand(eventsCommand(out, err));
  program.addCommand(reloadCommand(out));
  program.addCommand(replayCommand(out, setExitCode));
  for (const command of program.commands) command.configureOutput({ writeOut: out, writeErr: err }).exitOverride();
  return program;
}

/**
 * Runs the `tbi` CLI and returns its exit code. User mistakes print one paragraph (exit 1);
 * unexpected errors print the stack and ask for a bug report (exit 70).
 *
 * @example
 * process.exitCode = await main(process.argv);
 */
export async function main(argv: readonly string[], io: CliIo = {}): Promise<number> {
  let exitCode = 0;
  const program = createProgram(io, (code) => (exitCode = code));
  if (argv.length <= 2) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; a usage mistake was already printed by commander.
      return error.exitCode;
    }
    return reportError(error, io.err);
  }
}
