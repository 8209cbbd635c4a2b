import { ConfigError, type ExclusiveKey } from '@tbi/plugin-api';
import type { LoadedPlugin } from '../plugins/load-plugin.js';
import { coerceToSchema } from './coerce-to-schema.js';
import { InvalidConfigError, issuesToProblems } from './config-problems.js';
import { formatPath, type ConfigPath } from './format-path.js';
import type { LoadedConfig } from './load-config.js';

/**
 * Validates every integration's `config` block with its plugin's own schema (Standard Schema,
 * so any schema library works) before anything starts, after coercing scalars to the types of
 * the plugin's JSON Schema (`protocolVersion: 5` is the string "5"). Then refuses two
 * integrations of one type claiming the same resource (the plugin's `exclusiveKeys`). Returns
 * the validated (defaulted) blocks by integration name; every problem of every integration is
 * reported at once, with file, line and path such as `integrations[2].config.port`.
 */
export async function validateIntegrationConfigs(loaded: LoadedConfig, plugins: ReadonlyMap<string, LoadedPlugin>): Promise<Map<string, unknown>> {
  const { config } = loaded;
  const problems: ConfigError[] = [];
  const validated = new Map<string, unknown>();
  const claims = new Map<string, { index: number; path: ConfigPath }>();
  for (const [index, entry] of config.integrations.entries()) {
    if (!entry) continue; // left out of a partial config: its problems are already reported
    const plugin = plugins.get(entry.type);
    if (!plugin) continue; // selectPlugins already reported it
    const prefix = ['integrations', index, 'config'];
    const jsonSchema = plugin.definition.configJsonSchema;
    const ctx = { file: loaded.file, tree: loaded.tree, locate: loaded.locate, redact: loaded.redact, jsonSchema };
    const written = (path: ConfigPath) => loaded.numberText?.([...prefix, ...path]);
    const result = await plugin.definition.configSchema['~standard'].validate(coerceToSchema(entry.config, jsonSchema, written));
    if (result.issues) problems.push(...issuesToProblems(result.issues, prefix, ctx));
    else {
      validated.set(entry.name, result.value);
      problems.push(...claimKeys(loaded, plugin, index, result.value, claims));
    }
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

/** Records the resources integration `index` claims; a problem for each one an earlier one holds. */
function claimKeys(
  loaded: LoadedConfig,
  plugin: LoadedPlugin,
  index: number,
  config: unknown,
  claims: Map<string, { index: number; path: ConfigPath }>,
): ConfigError[] {
  const hook = plugin.definition.exclusiveKeys;
  if (!hook) return [];
  const type = plugin.definition.type;
  const problems: ConfigError[] = [];
  for (const raw of hook.call(plugin.definition, config)) {
    const claim: ExclusiveKey = typeof raw === 'string' ? { key: raw } : raw;
    const path = ['integrations', index, 'config', ...(claim.path ?? [])];
    const id = `${type}\u0000${claim.key}`;
    const holder = claims.get(id);
    if (holder === undefined) {
      claims.set(id, { index, path });
      continue;
    }
    const holderName = loaded.config.integrations[holder.index]?.name ?? `integrations[${holder.index}]`;
    const holderAt = `${loaded.file === undefined ? '' : `${loaded.file}${loaded.locate(holder.path)}: `}${formatPath(holder.path)}`;
    problems.push(
      new ConfigError({
        file: loaded.file === undefined ? undefined : loaded.file + loaded.locate(path),
        path: formatPath(path),
        expected: `its own ${claim.label ?? `resource ${JSON.stringify(claim.key)}`}, but ${type} integration "${holderName}" (${holderAt}) already claims it`,
      }),
    );
  }
  return problems;
}

/** The integration types a config uses, with where, for plugin selection messages. */
export function typeUses(loaded: LoadedConfig): Array<{ type: string; where: string }> {
  return loaded.config.integrations.flatMap((entry, index) => {
    if (!entry) return [];
    const path = ['integrations', index, 'type'];
    const file = loaded.file === undefined ? '' : `${loaded.file}${loaded.locate(path)}: `;
    return [{ type: entry.type, where: `${file}${formatPath(path)}` }];
  });
}
