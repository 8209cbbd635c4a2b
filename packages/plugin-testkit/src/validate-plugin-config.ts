import { PluginError, type PluginDefinition } from '@tbi/plugin-api';

/** Validates `config` with the plugin's own schema, as the host does, and returns what it made. */
export async function validatePluginConfig<Config>(plugin: PluginDefinition<Config>, config: unknown): Promise<Config> {
  const result = await plugin.configSchema['~standard'].validate(config);
  if (result.issues === undefined) return result.value;
  const problems = result.issues.map((issue) => {
    const where = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
    return `${where === '' ? 'config' : `config.${where}`}: ${issue.message}`;
  });
  throw new PluginError('CONFIG_INVALID', `the plugin's schema refused the config: ${problems.join('; ')}`, { context: { plugin: plugin.type } });
}
