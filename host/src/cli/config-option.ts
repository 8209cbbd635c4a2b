import { existsSync } from 'node:fs';
import path from 'node:path';
import { TbiError } from '@tbi/plugin-api';

/** Config files looked for in the current directory when `--config` is not given. */
export const DEFAULT_CONFIG_FILES = ['tbi.yaml', 'tbi.yml', 'tbi.json'];

/** The config file named by `--config`, or the default one in the cwd; a clear error if none. */
export function configFileFrom(option: string | undefined, cwd = process.cwd()): string {
  if (option !== undefined) return option;
  const found = DEFAULT_CONFIG_FILES.find((f) => existsSync(path.join(cwd, f)));
  if (found) return found;
  throw new TbiError('CONFIG_NOT_FOUND', `no config file: found none of ${DEFAULT_CONFIG_FILES.join(', ')} in ${cwd}; pass one with --config <file>.`);
}

/** Like `configFileFrom`, but undefined when there is none (for commands that work without one). */
export function optionalConfigFile(option: string | undefined, cwd = process.cwd()): string | undefined {
  if (option !== undefined) return option;
  return DEFAULT_CONFIG_FILES.find((f) => existsSync(path.join(cwd, f)));
}
