import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { parseManifest, PluginError, type PluginManifest } from '@tbi/plugin-api';
import { checkCompatibility } from './check-compatibility.js';
import { dependencyNames, findProjectDir, readPackageJson, resolvePackageDir } from './find-package.js';

/** One installed plugin package, known from its package.json alone (nothing imported). */
export interface DiscoveredPlugin {
  packageName: string;
  version: string;
  /** Real directory of the package. */
  dir: string;
  /** How it was found: a dependency of the project, or a `plugins:` entry of the config. */
  foundBy: 'dependency' | 'config';
  /** The manifest, when the `tbi` field is valid. */
  manifest: PluginManifest | undefined;
  /** The integration type, when the manifest names one. */
  type: string | undefined;
  /** Problems of the `tbi` field, empty when valid. */
  problems: string[];
  compatible: boolean;
  /** Why it is not usable (incompatible API range or invalid manifest). */
  reason: string | undefined;
}

/** What discovery found. */
export interface Discovery {
  /** The directory of the package.json whose dependencies were searched, if any. */
  projectDir: string | undefined;
  plugins: DiscoveredPlugin[];
}

/** Options of `discoverPlugins`. */
export interface DiscoverOptions {
  /** Where to look for the project's package.json (upwards); usually the config file's directory. */
  from: string;
  /** Explicit `plugins:` entries: package names, or local paths relative to `baseDir`. */
  explicit?: readonly string[];
  /** Base of relative `plugins:` paths; default `from`. */
  baseDir?: string;
  /** Describes where the explicit entries are, for errors (e.g. `tbi.yaml: plugins[1]`). */
  describeEntry?: (index: number) => string;
}

/**
 * Finds installed plugins from the dependencies of the project and the explicit entries, reading
 * only package.json files: no plugin code runs. Packages without a `tbi` field are not plugins
 * and are skipped; an explicit entry that is missing or not a plugin is a `PluginError`.
 *
 * @example
 * const { plugins } = await discoverPlugins({ from: process.cwd() });
 */
export async function discoverPlugins(options: DiscoverOptions): Promise<Discovery> {
  const projectDir = findProjectDir(options.from);
  const baseDir = options.baseDir ?? options.from;
  const byDir = new Map<string, DiscoveredPlugin>();

  if (projectDir !== undefined) {
    const project = await readPackageJson(projectDir);
    for (const name of dependencyNames(project)) {
      const dir = await resolvePackageDir(name, projectDir);
      if (dir === undefined || byDir.has(dir)) continue;
      const pkg = await readPackageJson(dir);
      if (pkg.tbi === undefined) continue;
      byDir.set(dir, describePlugin(pkg, dir, 'dependency'));
    }
  }

  const explicit = options.explicit ?? [];
  for (const [index, entry] of explicit.entries()) {
    const where = options.describeEntry?.(index) ?? `plugins[${index}]`;
    const dir = await resolveEntry(entry, baseDir, projectDir);
    if (dir === undefined) {
      throw new PluginError(
        'PLUGIN_NOT_FOUND',
        `${where}: the plugin "${entry}" is not installed. ${isLocalPath(entry) ? `No package.json at ${path.resolve(baseDir, entry)}.` : `Install it in the project (\`npm install ${entry}\`).`}`,
        { context: { entry } },
      );
    }
    if (byDir.has(dir)) continue;
    const pkg = await readPackageJson(dir);
    if (pkg.tbi === undefined) {
      throw new PluginError('PLUGIN_NOT_A_PLUGIN', `${where}: "${entry}" (${dir}) is not a tbi plugin: its package.json has no "tbi" field.`, {
        context: { entry, dir },
      });
    }
    byDir.set(dir, describePlugin(pkg, dir, 'config'));
  }
  return { projectDir, plugins: [...byDir.values()] };
}

function isLocalPath(entry: string): boolean {
  return entry.startsWith('.') || path.isAbsolute(entry);
}

async function resolveEntry(entry: string, baseDir: string, projectDir: string | undefined): Promise<string | undefined> {
  if (isLocalPath(entry)) {
    const dir = path.resolve(baseDir, entry);
    return existsSync(path.join(dir, 'package.json')) ? realpath(dir) : undefined;
  }
  return (await resolvePackageDir(entry, baseDir)) ?? (projectDir ? resolvePackageDir(entry, projectDir) : undefined);
}

function describePlugin(pkg: Record<string, unknown>, dir: string, foundBy: DiscoveredPlugin['foundBy']): DiscoveredPlugin {
  const packageName = typeof pkg.name === 'string' ? pkg.name : path.basename(dir);
  const version = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  const parsed = parseManifest(pkg);
  const rawType = (pkg.tbi as { type?: unknown } | null)?.type;
  const base = { packageName, version, dir, foundBy, type: typeof rawType === 'string' ? rawType : undefined };
  if (!parsed.ok) {
    return {
      ...base,
      manifest: undefined,
      problems: parsed.problems,
      compatible: false,
      reason: `${packageName} ${version} has an invalid "tbi" field in package.json: ${parsed.problems.join('; ')}.`,
    };
  }
  const compat = checkCompatibility(packageName, version, parsed.manifest.pluginApi);
  return {
    ...base,
    manifest: parsed.manifest,
    problems: [],
    compatible: compat.compatible,
    reason: compat.compatible ? undefined : compat.reason,
  };
}
