import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { TbiError } from '@tbi/plugin-api';
import { buildJsonSchema } from '../config/json-schema.js';
import { discoverPlugins } from '../plugins/discover-plugins.js';
import { INIT_FILES, sampleConfig } from './init/sample-config.js';
import { sampleConverter } from './init/sample-converter.js';
import { loadInstalledPlugins } from './load-installed-plugins.js';

/**
 * `tbi init`: a starting point for the project in the current directory (or `--dir`): a commented
 * tbi.yaml with one integration per installed plugin, its JSON Schema for editors, and a sample
 * uplink converter with test cases per integration. Writes nothing if any of these files exists.
 */
export function initCommand(out: (text: string) => void, warn: (text: string) => void): Command {
  return new Command('init')
    .description('write a commented tbi.yaml for the installed plugins, its JSON Schema and sample converters with test cases (never overwrites)')
    .option('-d, --dir <dir>', 'project folder (with the package.json that lists the plugins)', '.')
    .action(async (opts: { dir: string }) => {
      const dir = path.resolve(opts.dir);
      const discovery = await discoverPlugins({ from: dir });
      for (const p of discovery.plugins.filter((p) => !p.compatible)) warn(`tbi: leaving out ${p.packageName}: ${p.reason}\n`);
      const plugins = await loadInstalledPlugins(discovery, warn);
      if (plugins.length === 0) {
        throw new TbiError(
          'INIT_NO_PLUGINS',
          `no usable tbi plugin is installed in ${discovery.projectDir ?? dir}: install the connectors you need first, e.g. \`npm install @tbi/plugin-http\`, then run \`npx tbi init\` again.`,
        );
      }
      const converters = new Map(plugins.map((p) => [p.definition.type, sampleConverter(p.definition.type)]));
      const files = new Map<string, string>([
        [INIT_FILES.config, sampleConfig(plugins, (type) => converters.get(type)!.file)],
        [INIT_FILES.schema, `${JSON.stringify(buildJsonSchema(plugins), null, 2)}\n`],
      ]);
      for (const c of converters.values()) {
        files.set(path.join(INIT_FILES.converters, c.file), c.source);
        files.set(path.join(INIT_FILES.converters, c.file.replace(/\.js$/, '.cases.json')), c.cases);
      }
      const existing = [...files.keys()].filter((f) => existsSync(path.join(dir, f)));
      if (existing.length > 0) {
        throw new TbiError(
          'INIT_WOULD_OVERWRITE',
          `not writing anything: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${dir}. Move ${existing.length === 1 ? 'it' : 'them'} away to start afresh.`,
        );
      }
      await mkdir(path.join(dir, INIT_FILES.converters), { recursive: true });
      for (const [file, text] of files) await writeFile(path.join(dir, file), text, { flag: 'wx' });
      out(
        nextSteps(
          plugins.map((p) => `${p.definition.type} (${p.info.packageName} ${p.info.version})`),
          [...files.keys()],
        ),
      );
    });
}

function nextSteps(integrations: string[], files: string[]): string {
  return [
    `wrote ${files.join(', ')}`,
    `integrations: ${integrations.join(', ')}`,
    '',
    'next:',
    '  edit tbi.yaml (the settings under "Required") and the converters in converters/',
    "  npx tbi test-converters converters   # run the converters' test cases",
    '  npx tbi validate                     # check tbi.yaml',
    '  npx tbi start                        # run the host (Ctrl-C stops it)',
    '',
  ].join('\n');
}
