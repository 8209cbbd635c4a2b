import { ConfigError } from '@tbi/plugin-api';
import type { LoadedPlugin } from '../plugins/load-plugin.js';
import type { HostConfig } from './config-schema.js';
import { InvalidConfigError, issuesToProblems } from './config-problems.js';
import { formatPath } from './format-path.js';
import type { LoadedConfig } from './load-config.js';

/**
 * Validates every integration's `config` block with its plugin's own schema (Standard Schema,
 * so any schema library works) before anything starts. Returns the validated (defaulted) blocks
 * by integration name; every problem of every integration is reported at once, with file, line
 * and path such as `integrations[2].config.port`.
 */
export async function validateIntegrationConfigs(
  loaded: LoadedConfig,
  plugins: ReadonlyMap<string, LoadedPlugin>,
): Promise<Map<string, unknown>> {
  const { config } = loaded;
  const ctx = { file: loaded.file, tree: loaded.tree, locate: loaded.locate, redact: loaded.redact };
  const problems: ConfigError[] = [];
  const validated = new Map<string, unknown>();
  for (const [index, entry] of config.integrations.entries()) {
    const plugin = plugins.get(entry.type);
    if (!plugin) continue; // selectPlugins already reported it
    const prefix = ['integrations', index, 'config'];
    const result = await plugin.definition.configSchema['~standard'].validate(entry.config);
    if (result.issues) problems.push(...issuesToProblems(result.issues, prefix, ctx));
    else validated.set(entry.name, result.value);
    if (entry.downlinkConverter && plugin.definition.downlink === 'none') {
      const path = ['integrations', index, 'downlinkConverter'];
      problems.push(
        new ConfigError({
          file: loaded.file === undefined ? undefined : loaded.file + loaded.locate(path),
          path: formatPath(path),
          expected: `no downlink converter: plugin ${plugin.info.packageName} (type "${entry.type}") sends no downlinks`,
        }),
      );
    }
  }
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return validated;
}

/** The integration types a config uses, with where, for plugin selection messages. */
export function typeUses(loaded: LoadedConfig): Array<{ type: string; where: string }> {
  return loaded.config.integrations.map((entry, index) => {
    const path = ['integrations', index, 'type'];
    const file = loaded.file === undefined ? '' : `${loaded.file}${loaded.locate(path)}: `;
    return { type: entry.type, where: `${file}${formatPath(path)}` };
  });
}

/** The config's used types in order, once each. */
export function usedTypes(config: HostConfig): string[] {
  return [...new Set(config.integrations.map((i) => i.type))];
}
