import { Command } from 'commander';
import { listPlugins, type PluginList } from '../plugins/plugin-listing.js';
import { discoverForCli } from './discover-for-cli.js';

/** Formats rows as columns separated by two spaces. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function human(list: PluginList): string {
  const head = `plugin API of this host: ${list.pluginApi}; project: ${list.projectDir ?? '(no package.json found)'}`;
  if (list.plugins.length === 0) return `${head}\nno plugins installed (add a plugin package such as @tbi/plugin-http to the project's dependencies)\n`;
  const rows = [['TYPE', 'PACKAGE', 'VERSION', 'PLUGIN API', 'STATUS']];
  for (const p of list.plugins) {
    const status = !p.compatible ? `refused: ${p.reason}` : p.conflict ? `conflict: ${p.conflict}` : 'ok';
    rows.push([p.type ?? '-', p.package, p.version, p.pluginApi ?? '-', status]);
  }
  return `${head}\n${formatTable(rows)}\n`;
}

/**
 * `tbi plugins`: the installed plugins, read from package.json files only (no plugin code runs),
 * with their compatibility with this host.
 */
export function pluginsCommand(out: (text: string) => void): Command {
  return new Command('plugins')
    .description("list the plugins installed in the project (its package.json dependencies and the config's plugins:), without loading them")
    .option('-c, --config <file>', "also list the config's plugins: entries; default: tbi.yaml if present")
    .option('--json', 'print JSON: { pluginApi, projectDir, plugins: [{ package, version, type, pluginApi, compatible, reason?, conflict? }] }')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const discovery = await discoverForCli(opts.config);
      const list = listPlugins(discovery);
      out(opts.json ? `${JSON.stringify(list, null, 2)}\n` : human(list));
    });
}
