import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@tbi/plugin-api';
import { parseSource } from '../config/source-positions.js';
import { discoverPlugins, type Discovery } from '../plugins/discover-plugins.js';
import { optionalConfigFile } from './config-option.js';

/**
 * Discovery for `tbi plugins` and `tbi schema`: from the config file's project and its `plugins:`
 * entries when there is a config, else from the current directory. Only `plugins:` is read, so a
 * config that is otherwise invalid (or needs variables not set here) still lists.
 */
export async function discoverForCli(configOption: string | undefined): Promise<Discovery> {
  const file = optionalConfigFile(configOption);
  if (file === undefined) return discoverPlugins({ from: path.resolve('.') });
  const text = await readFile(file, 'utf8').catch((cause: Error) => {
    throw new ConfigError({ file, path: '', expected: `a readable config file (${cause.message})`, cause });
  });
  const { tree, locate } = parseSource(text, file);
  const entries = (tree as { plugins?: unknown }).plugins;
  const explicit = Array.isArray(entries) ? entries.filter((e): e is string => typeof e === 'string') : [];
  const baseDir = path.dirname(path.resolve(file));
  return discoverPlugins({ from: baseDir, explicit, describeEntry: (i) => `${file}${locate(['plugins', i])}: plugins[${i}]` });
}
