import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { buildJsonSchema } from '../config/json-schema.js';
import { discoverForCli } from './discover-for-cli.js';
import { loadInstalledPlugins } from './load-installed-plugins.js';

/**
 * `tbi schema`: the config file's JSON Schema for editors, with each installed plugin's
 * `config` schema where the plugin publishes one. Unlike `tbi plugins`, this imports the
 * compatible plugins (their schema is code); one that fails to load is skipped with a warning.
 */
export function schemaCommand(out: (text: string) => void, warn: (text: string) => void): Command {
  return new Command('schema')
    .description("print the config file's JSON Schema (with the config schemas of the installed plugins)")
    .option('-c, --config <file>', "also use the config's plugins: entries; default: tbi.yaml if present")
    .option('-o, --output <file>', 'write the schema to a file instead of stdout')
    .action(async (opts: { config?: string; output?: string }) => {
      const discovery = await discoverForCli(opts.config);
      const plugins = await loadInstalledPlugins(discovery, warn);
      const text = `${JSON.stringify(buildJsonSchema(plugins), null, 2)}\n`;
      if (opts.output) await writeFile(opts.output, text);
      else out(text);
    });
}
