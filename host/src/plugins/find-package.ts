import { existsSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';

/** Finds the nearest directory at or above `start` that has a package.json. */
export function findProjectDir(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Finds an installed package the way Node resolves a bare name, from `fromDir` upwards through
 * every `node_modules`, without importing it (its `exports` map may hide package.json).
 * Returns the real directory (pnpm installs through symlinks).
 */
export async function resolvePackageDir(name: string, fromDir: string): Promise<string | undefined> {
  for (let dir = path.resolve(fromDir); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpath(candidate);
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Reads and parses `<dir>/package.json`. */
export async function readPackageJson(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
}

/** The names of a package.json's dependencies of every kind, in a stable order. */
export function dependencyNames(pkg: Record<string, unknown>): string[] {
  const names = new Set<string>();
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    const deps = pkg[field];
    if (deps && typeof deps === 'object') for (const name of Object.keys(deps)) names.add(name);
  }
  return [...names].sort();
}
