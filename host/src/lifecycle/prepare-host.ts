import { ConfigError, isTbiError, type ConverterSandbox, type TbiError } from '@tbi/plugin-api';
import { InvalidConfigError } from '../config/config-problems.js';
import { formatPath, type ConfigPath } from '../config/format-path.js';
import type { LoadedConfig } from '../config/load-config.js';
import { typeUses, validateIntegrationConfigs } from '../config/validate-integrations.js';
import { discoverPlugins, type DiscoveredPlugin, type Discovery } from '../plugins/discover-plugins.js';
import { loadPlugin, type LoadedPlugin } from '../plugins/load-plugin.js';
import { PluginProblemsError, selectPlugins } from '../plugins/select-plugins.js';
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
 * given a sandbox, compiles) every converter. Every stage runs whatever an earlier one found,
 * and all problems are thrown together, in the order of the file.
 */
export async function prepareHost(loaded: LoadedConfig, options: { loadSource: ConverterSourceLoader; sandbox?: ConverterSandbox }): Promise<PreparedHost> {
  const problems: TbiError[] = [];
  const collect = (error: unknown) => {
    if (error instanceof PluginProblemsError) problems.push(...error.problems);
    else if (isTbiError(error)) problems.push(error);
    else throw error;
  };
  const discovery = await discoverForConfig(loaded);
  let selected = new Map<string, DiscoveredPlugin>();
  try {
    selected = selectPlugins(typeUses(loaded), discovery.plugins);
  } catch (error) {
    collect(error);
    const uses = typeUses(loaded);
    // The types that did resolve are still checked (selectPlugins reports per type).
    for (const use of uses) {
      const usable = discovery.plugins.filter((p) => p.type === use.type && p.compatible);
      if (usable.length === 1) selected.set(use.type, usable[0]!);
    }
  }
  const plugins = new Map<string, LoadedPlugin>();
  for (const [type, info] of selected) {
    try {
      plugins.set(type, await loadPlugin(info));
    } catch (error) {
      collect(error);
    }
  }
  let pluginConfigs = new Map<string, unknown>();
  try {
    pluginConfigs = await validateIntegrationConfigs(loaded, plugins);
  } catch (error) {
    collect(error);
  }
  try {
    await checkConverters(loaded, options);
  } catch (error) {
    collect(error);
  }
  for (const [index, entry] of loaded.config.integrations.entries()) {
    const plugin = entry?.export ? plugins.get(entry.type) : undefined;
    if (plugin && plugin.definition.downlink === 'none') {
      const path = ['integrations', index, 'export'];
      collect(
        new ConfigError({
          file: loaded.file === undefined ? undefined : loaded.file + loaded.locate(path),
          path: formatPath(path),
          expected: `no export on a "${entry!.type}" integration: its connector does not send messages (exports need one that does: kafka, pulsar, rabbitmq, mqtt, http)`,
        }),
      );
    }
  }
  if (problems.length === 1 && !(problems[0] instanceof InvalidConfigError)) throw problems[0];
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return { loaded, discovery, plugins, pluginConfigs };
}

async function checkConverters(loaded: LoadedConfig, options: { loadSource: ConverterSourceLoader; sandbox?: ConverterSandbox }): Promise<void> {
  const problems: ConfigError[] = [];
  for (const [index, entry] of loaded.config.integrations.entries()) {
    if (!entry) continue; // left out of a partial config
    // The export's encoder is a downlink converter too.
    const specs = [
      ['uplink', entry.uplinkConverter, ['uplinkConverter']],
      ['downlink', entry.downlinkConverter, ['downlinkConverter']],
      ['downlink', entry.export?.converter, ['export', 'converter']],
    ] as const;
    for (const [kind, spec, at] of specs) {
      if (!spec) continue;
      const path = ['integrations', index, ...at, ...(spec.file ? ['file'] : ['inline'])];
      const file = loaded.file === undefined ? undefined : loaded.file + loaded.locate(path);
      try {
        const { source } = await options.loadSource(spec, kind, loaded.baseDir);
        if (options.sandbox) {
          const name = `${entry.name}/${at[0] === 'export' ? 'export' : kind}`;
          const converter = kind === 'uplink' ? await options.sandbox.uplink(name, source) : await options.sandbox.downlink(name, source);
          await converter.dispose();
        }
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        problems.push(
          new ConfigError({
            file,
            path: formatPath(path),
            expected: `${kind === 'uplink' ? 'an' : 'a'} ${kind} converter that loads and compiles (${reason})`,
            cause,
          }),
        );
      }
    }
  }
  if (problems.length > 0) throw new InvalidConfigError(problems);
}
