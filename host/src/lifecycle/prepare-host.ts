import { ConfigError, type ConverterSandbox } from '@tbi/plugin-api';
import { InvalidConfigError } from '../config/config-problems.js';
import { formatPath, type ConfigPath } from '../config/format-path.js';
import type { LoadedConfig } from '../config/load-config.js';
import { typeUses, validateIntegrationConfigs } from '../config/validate-integrations.js';
import { discoverPlugins, type Discovery } from '../plugins/discover-plugins.js';
import { loadPlugin, type LoadedPlugin } from '../plugins/load-plugin.js';
import { selectPlugins } from '../plugins/select-plugins.js';
import type { ConverterSourceLoader } from './host-services.js';

/** Everything checked before anything starts. */
export interface PreparedHost {
  loaded: LoadedConfig;
  discovery: Discovery;
  /** The imported plugin of every type the config uses. */
  plugins: Map<string, LoadedPlugin>;
  /** Each integration's `config` block as its plugin's schema returned it. */
  pluginConfigs: Map<string, unknown>;
}

/** Finds plugins for a loaded config (without importing any), from its directory and `plugins:`. */
export function discoverForConfig(loaded: LoadedConfig): Promise<Discovery> {
  return discoverPlugins({
    from: loaded.baseDir,
    explicit: loaded.config.plugins,
    describeEntry: (i) => where(loaded, ['plugins', i]),
  });
}

function where(loaded: LoadedConfig, path: ConfigPath): string {
  return `${loaded.file === undefined ? '' : `${loaded.file}${loaded.locate(path)}: `}${formatPath(path)}`;
}

/**
 * Validates a whole configuration before anything starts: discovers plugins, imports only those
 * the config uses, validates each integration's block with its plugin's schema, and reads (and,
 * given a sandbox, compiles) every converter. Throws the first kind of problem found, listing
 * every instance of it.
 */
export async function prepareHost(
  loaded: LoadedConfig,
  options: { loadSource: ConverterSourceLoader; sandbox?: ConverterSandbox },
): Promise<PreparedHost> {
  const discovery = await discoverForConfig(loaded);
  const selected = selectPlugins(typeUses(loaded), discovery.plugins);
  const plugins = new Map<string, LoadedPlugin>();
  for (const [type, info] of selected) plugins.set(type, await loadPlugin(info));
  const pluginConfigs = await validateIntegrationConfigs(loaded, plugins);
  await checkConverters(loaded, options);
  return { loaded, discovery, plugins, pluginConfigs };
}

async function checkConverters(loaded: LoadedConfig, options: { loadSource: ConverterSourceLoader; sandbox?: ConverterSandbox }): Promise<void> {
  const problems: ConfigError[] = [];
  for (const [index, entry] of loaded.config.integrations.entries()) {
    const specs = [['uplink', entry.uplinkConverter], ['downlink', entry.downlinkConverter]] as const;
    for (const [kind, spec] of specs) {
      if (!spec) continue;
      const path = ['integrations', index, `${kind}Converter`, ...(spec.file ? ['file'] : ['inline'])];
      const file = loaded.file === undefined ? undefined : loaded.file + loaded.locate(path);
      try {
        const { source } = await options.loadSource(spec, kind, loaded.baseDir);
        if (options.sandbox) {
          const name = `${entry.name}/${kind}`;
          const converter = kind === 'uplink' ? await options.sandbox.uplink(name, source) : await options.sandbox.downlink(name, source);
          await converter.dispose();
        }
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        problems.push(new ConfigError({ file, path: formatPath(path), expected: `${kind === 'uplink' ? 'an' : 'a'} ${kind} converter that loads and compiles (${reason})`, cause }));
      }
    }
  }
  if (problems.length > 0) throw new InvalidConfigError(problems);
}
