import type { LoadedPlugin } from '../../plugins/load-plugin.js';
import { sampleSettings } from './sample-settings.js';

/** Where `tbi init` puts things, relative to the project folder. */
export const INIT_FILES = { config: 'tbi.yaml', schema: 'tbi.schema.json', converters: 'converters' } as const;

function comment(text: string | undefined, indent: string): string[] {
  return text ? [`${indent}# ${text}`] : [];
}

function integrationBlock(plugin: LoadedPlugin, converterFile: string): string[] {
  const { definition, info } = plugin;
  const settings = definition.configJsonSchema ? sampleSettings(definition.configJsonSchema) : [];
  const required = settings.filter((s) => s.required);
  const defaults = settings.filter((s) => !s.required);
  // A `config:` with only comments under it would be null: an empty mapping says "all defaults".
  const lines = [
    `  - name: ${definition.type}-1`,
    `    type: ${definition.type}            # ${info.packageName} ${info.version}`,
    required.length > 0 ? '    config:' : '    config: {}',
  ];
  if (required.length > 0) lines.push('      # Required: edit these.');
  for (const s of required) lines.push(...comment(s.description, '      '), `      ${s.key}: ${s.value}`);
  if (defaults.length > 0) lines.push('      # Optional, shown with their defaults: uncomment to change.');
  for (const s of defaults) lines.push(`      # ${s.key}: ${s.value}${s.description ? `   — ${s.description}` : ''}`);
  lines.push('    uplinkConverter:', `      file: ${INIT_FILES.converters}/${converterFile}`, '    debug:', '      mode: failures');
  return lines;
}

/**
 * The text of a new tbi.yaml: the embedded platform, the HTTP surface on loopback, and one
 * integration per installed plugin with its settings (required ones to edit, the rest commented
 * with their defaults). The first line points editors (VS Code's YAML extension and others that
 * read `yaml-language-server` comments) at the JSON Schema written beside it.
 */
export function sampleConfig(plugins: readonly LoadedPlugin[], converterFile: (type: string) => string): string {
  const lines = [
    `# yaml-language-server: $schema=./${INIT_FILES.schema}`,
    '# A tbi host, written by `tbi init`. Check it with `npx tbi validate`, run it with `npx tbi start`.',
    `# ${INIT_FILES.schema} (refresh: \`npx tbi schema -o ${INIT_FILES.schema}\`) lets an editor complete and check this file.`,
    '',
    'http:',
    '  host: 127.0.0.1          # 0.0.0.0 to accept connections from other machines',
    '  port: ${env:TBI_PORT:-8080}    # or `npx tbi start --port 9090`',
    '',
    '# The control API (/api/*) needs "Authorization: Bearer <token>": auth.token, else the',
    '# TBI_TOKEN environment variable; with neither, /api/* answers 401.',
    '# auth:',
    '#   token: ${env:TBI_TOKEN}',
    '',
    'dataDir: ./.data            # SQLite databases of the embedded platform and the dead letters',
    '',
    'platform:',
    '  type: embedded           # or thingsboard (see @tbi/platform-thingsboard)',
    '',
    'log:',
    '  level: info',
    '',
    "# One integration per installed plugin. Plugins are found in this project's package.json",
    '# dependencies; `npx tbi plugins` lists them.',
    'integrations:',
  ];
  for (const plugin of plugins) lines.push(...integrationBlock(plugin, converterFile(plugin.definition.type)), '');
  return `${lines.join('\n').trimEnd()}\n`;
}
