import { isTbiError } from '@tbi/plugin-api';

/** Exit code of a user mistake (bad config, missing plugin, failed converter case…). */
export const EXIT_USER_ERROR = 1;
/** Exit code of a bug: something tbi did not expect. */
export const EXIT_INTERNAL_ERROR = 70;

/**
 * Prints an error the way a user can act on it: a `TbiError` (a mistake in the config, a
 * plugin, the command line) as one clear paragraph without a stack trace; anything else as a
 * bug, with the stack and a request to report it. Returns the exit code.
 */
export function reportError(error: unknown, write: (text: string) => void = (t) => process.stderr.write(t)): number {
  if (isTbiError(error)) {
    const lines = error.message.split('\n');
    const head = lines.length > 1 ? `tbi: ${error.code}:\n${lines.map((l) => `  - ${l}`).join('\n')}` : `tbi: ${error.message}`;
    write(`${head}\n`);
    return EXIT_USER_ERROR;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  write(`tbi: unexpected error. This is a bug in tbi or one of its plugins; please report it with this output and \`tbi --version\`.\n${stack}\n`);
  return EXIT_INTERNAL_ERROR;
}
