import path from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { isPluginDefinition, PLUGIN_API_VERSION, PluginError, type PluginDefinition } from '@tbi/plugin-api';
import type { DiscoveredPlugin } from './discover-plugins.js';

/** A plugin whose code has been imported and checked. */
export interface LoadedPlugin {
  info: DiscoveredPlugin;
  definition: PluginDefinition;
}

/**
 * Imports a discovered, compatible plugin and checks its default export by value: it must be a
 * `definePlugin` result for the type its manifest declares, made with the same major plugin API.
 */
export async function loadPlugin(info: DiscoveredPlugin): Promise<LoadedPlugin> {
  const name = `${info.packageName} ${info.version}`;
  if (!info.manifest || !info.compatible) {
    throw new PluginError('PLUGIN_INCOMPATIBLE', info.reason ?? `${name} cannot be used`, { context: { package: info.packageName } });
  }
  const entry = path.resolve(info.dir, info.manifest.entry);
  if (path.relative(info.dir, entry).startsWith('..')) {
    throw new PluginError('PLUGIN_INVALID', `${name}: "tbi.entry" (${info.manifest.entry}) points outside the package.`, {
      context: { package: info.packageName },
    });
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(entry).href)) as { default?: unknown };
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new PluginError('PLUGIN_LOAD_FAILED', `${name}: importing ${entry} failed: ${reason}`, {
      cause,
      context: { package: info.packageName, entry },
    });
  }
  const definition = mod.default;
  if (!isPluginDefinition(definition)) {
    throw new PluginError(
      'PLUGIN_INVALID',
      `${name}: the default export of ${entry} is not a plugin definition; export \`definePlugin({...})\` from @tbi/plugin-api as default.`,
      { context: { package: info.packageName, entry } },
    );
  }
  if (definition.type !== info.manifest.type) {
    throw new PluginError('PLUGIN_INVALID', `${name}: its package.json declares type "${info.manifest.type}" but its code defines type "${definition.type}".`, {
      context: { package: info.packageName },
    });
  }
  const major = semver.valid(definition.apiVersion) ? semver.major(definition.apiVersion) : undefined;
  if (major !== semver.major(PLUGIN_API_VERSION)) {
    throw new PluginError(
      'PLUGIN_INCOMPATIBLE',
      `${name} was built with plugin API ${definition.apiVersion}, but this host provides plugin API ${PLUGIN_API_VERSION}. Install a version of ${info.packageName} built for plugin API ^${semver.major(PLUGIN_API_VERSION)}.0.0.`,
      { context: { package: info.packageName } },
    );
  }
  return { info, definition };
}
