import { PLUGIN_API_VERSION } from '@tbi/plugin-api';
import type { Discovery } from './discover-plugins.js';

/** One row of `tbi plugins --json` and `GET /api/plugins`. */
export interface PluginListing {
  package: string;
  version: string;
  type: string | null;
  /** The plugin API range the plugin declares. */
  pluginApi: string | null;
  compatible: boolean;
  /** Why it cannot be used, when it cannot. */
  reason?: string;
  /** Another compatible plugin claims the same type. */
  conflict?: string;
  foundBy: 'dependency' | 'config';
  dir: string;
}

/** The whole listing: the host's plugin API and what is installed. */
export interface PluginList {
  pluginApi: string;
  projectDir: string | null;
  plugins: PluginListing[];
}

/** Describes discovered plugins for people and scripts, without importing any of them. */
export function listPlugins(discovery: Discovery): PluginList {
  const plugins = discovery.plugins.map((p): PluginListing => {
    const rivals = discovery.plugins.filter((o) => o !== p && o.compatible && p.compatible && o.type === p.type);
    return {
      package: p.packageName,
      version: p.version,
      type: p.type ?? null,
      pluginApi: p.manifest?.pluginApi ?? null,
      compatible: p.compatible,
      ...(p.reason === undefined ? {} : { reason: p.reason }),
      ...(rivals.length > 0 ? { conflict: `type "${p.type}" is also provided by ${rivals.map((r) => r.packageName).join(', ')}` } : {}),
      foundBy: p.foundBy,
      dir: p.dir,
    };
  });
  plugins.sort((a, b) => (a.type ?? '').localeCompare(b.type ?? '') || a.package.localeCompare(b.package));
  return { pluginApi: PLUGIN_API_VERSION, projectDir: discovery.projectDir ?? null, plugins };
}
