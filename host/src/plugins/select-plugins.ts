import { PluginError } from '@tbi/plugin-api';
import type { DiscoveredPlugin } from './discover-plugins.js';

/** Integration types that tbi's own connector packages provide. */
const FIRST_PARTY_TYPES = new Set(['http', 'mqtt', 'kafka', 'rabbitmq', 'pulsar']);

/** Several plugin problems at once; the message lists each on its own line. */
export class PluginProblemsError extends PluginError {
  readonly problems: PluginError[];

  constructor(problems: PluginError[]) {
    super(problems[0]?.code ?? 'PLUGIN_INVALID', problems.map((p) => p.message).join('\n'));
    this.problems = problems;
  }
}

/** A use of a type in the config, for messages. */
export interface TypeUse {
  type: string;
  /** Where the config uses it, e.g. `tbi.yaml:12: integrations[0].type`. */
  where: string;
}

/** The package that would provide a type, for the "install …" advice. */
export function packageForType(type: string): string | undefined {
  return FIRST_PARTY_TYPES.has(type) ? `@tbi/plugin-${type}` : undefined;
}

function describe(plugin: DiscoveredPlugin): string {
  return `${plugin.packageName} ${plugin.version} (${plugin.dir})`;
}

/**
 * Picks the plugin for every type the config uses. Reports, all at once: a type no installed
 * plugin provides (with the package to install), a type only incompatible plugins provide (both
 * versions named), and a type that two compatible plugins claim (both packages named).
 */
export function selectPlugins(uses: readonly TypeUse[], plugins: readonly DiscoveredPlugin[]): Map<string, DiscoveredPlugin> {
  const selected = new Map<string, DiscoveredPlugin>();
  const problems: PluginError[] = [];
  const reported = new Set<string>();
  const installedTypes = [...new Set(plugins.filter((p) => p.compatible && p.type).map((p) => p.type))].sort();

  for (const { type, where } of uses) {
    if (selected.has(type) || reported.has(type)) continue;
    const providers = plugins.filter((p) => p.type === type);
    const usable = providers.filter((p) => p.compatible);
    if (usable.length === 1) {
      selected.set(type, usable[0]!);
      continue;
    }
    reported.add(type);
    if (usable.length > 1) {
      problems.push(
        new PluginError(
          'PLUGIN_DUPLICATE_TYPE',
          `${where}: the integration type "${type}" is provided by more than one installed plugin: ${usable.map(describe).join(' and ')}. Remove all but one of them from the project's dependencies or "plugins:".`,
          { context: { type, packages: usable.map((p) => p.packageName) } },
        ),
      );
    } else if (providers.length > 0) {
      problems.push(
        new PluginError('PLUGIN_INCOMPATIBLE', `${where}: cannot use the integration type "${type}": ${providers.map((p) => p.reason).join(' ')}`, {
          context: { type, packages: providers.map((p) => p.packageName) },
        }),
      );
    } else {
      const pkg = packageForType(type);
      const install = pkg
        ? `Install ${pkg} in the project (\`npm install ${pkg}\`) or list it under "plugins:".`
        : `Install the plugin package that provides it (its package.json has "tbi": { "type": "${type}" }) in the project, or list it under "plugins:".`;
      const known = installedTypes.length > 0 ? ` Installed types: ${installedTypes.join(', ')}.` : ' No plugins are installed.';
      problems.push(
        new PluginError('PLUGIN_NOT_FOUND', `${where}: no installed plugin provides the integration type "${type}". ${install}${known}`, {
          context: { type, package: pkg },
        }),
      );
    }
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new PluginProblemsError(problems);
  return selected;
}
