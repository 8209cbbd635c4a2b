import type { Discovery } from '../plugins/discover-plugins.js';
import { loadPlugin, type LoadedPlugin } from '../plugins/load-plugin.js';

/**
 * Imports every compatible discovered plugin, for the commands that need their code (`tbi schema`,
 * `tbi init`: a plugin's settings schema is code). One that fails to load is skipped with a
 * warning, so one broken package does not stop the others from being described.
 */
export async function loadInstalledPlugins(discovery: Discovery, warn: (text: string) => void): Promise<LoadedPlugin[]> {
  const plugins: LoadedPlugin[] = [];
  for (const info of discovery.plugins.filter((p) => p.compatible)) {
    try {
      plugins.push(await loadPlugin(info));
    } catch (error) {
      warn(`tbi: skipping ${info.packageName}: ${(error as Error).message}\n`);
    }
  }
  return plugins;
}
