// What each public package ships, checked from `npm pack --dry-run` (the file list a publish
// uploads) and package.json: what it needs to run and to be understood, and nothing else.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PLUGIN_API_VERSION } from '../../packages/plugin-api/src/version.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type WorkspacePackage, workspacePackages } from './release-copy.js';

const run = promisify(execFile);

interface Manifest {
  name: string;
  version: string;
  engines?: { node?: string };
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
  tbi?: { entry?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

let packages: WorkspacePackage[];
beforeAll(async () => {
  packages = (await workspacePackages(ROOT)).filter((p) => !p.private);
});

async function packedFiles(dir: string): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
  return (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
}

/** Every file an `exports` map, `bin` or `tbi.entry` points at, for the `default` and `types` conditions. */
function pointedAt(manifest: Manifest): string[] {
  const targets: string[] = [];
  const walk = (node: unknown, key: string) => {
    if (typeof node === 'string') {
      if (key !== '@tbi/source') targets.push(node);
    } else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
  };
  walk(manifest.exports, '');
  walk(manifest.bin, '');
  if (manifest.tbi?.entry) targets.push(manifest.tbi.entry);
  return targets.map((t) => path.posix.normalize(t));
}

describe('the published packages', () => {
  it('are every public package of the workspace, at a real version, with engines and a CHANGELOG', () => {
    expect(packages.map((p) => p.name)).toContain('@tbi/host');
    for (const p of packages) {
      const manifest = JSON.parse(readFileSync(path.join(p.dir, 'package.json'), 'utf8')) as Manifest;
      expect(manifest.version, p.name).not.toBe('0.0.0');
      expect(manifest.engines?.node, p.name).toMatch(/^>=22/);
      expect(existsSync(path.join(p.dir, 'CHANGELOG.md')), `${p.name} CHANGELOG.md`).toBe(true);
    }
  });

  it('depend on @tbi/plugin-api as a peer (the host as a dependency: it provides the API), and its version is the API version', () => {
    // The console is the host's own web surface, not a plugin: it does not use the plugin API.
    for (const p of packages.filter((p) => p.name !== '@tbi/plugin-api' && p.name !== '@tbi/console')) {
      const manifest = JSON.parse(readFileSync(path.join(p.dir, 'package.json'), 'utf8')) as Manifest;
      const range = p.name === '@tbi/host' ? manifest.dependencies?.['@tbi/plugin-api'] : manifest.peerDependencies?.['@tbi/plugin-api'];
      expect(range, p.name).toBe('workspace:^');
    }
    const api = packages.find((p) => p.name === '@tbi/plugin-api')!;
    // Patch releases of the package may fix its helpers; its major.minor is the contract's.
    expect(api.version.split('.').slice(0, 2)).toEqual(PLUGIN_API_VERSION.split('.').slice(0, 2));
  });

  it('ship dist, the sources their maps point at, README, CHANGELOG and package.json, and no tests', async () => {
    const packed = await Promise.all(packages.map((p) => packedFiles(p.dir)));
    for (const [i, p] of packages.entries()) {
      const files = packed[i]!;
      const manifest = JSON.parse(readFileSync(path.join(p.dir, 'package.json'), 'utf8')) as Manifest;
      expect(files, p.name).toEqual(expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md', ...pointedAt(manifest)]));
      const strays = files.filter(
        (f) => /\.test\.|(^|\/)(test|tests|__tests__|fixtures|bench)\//.test(f) || !/^(dist|src|bin)\/|^(package\.json|README\.md|CHANGELOG\.md)$/.test(f),
      );
      expect(strays, p.name).toEqual([]);
      // Each source map's sources are in the tarball, so stack traces and "go to definition" resolve.
      for (const map of files.filter((f) => f.endsWith('.map'))) {
        const { sources } = JSON.parse(readFileSync(path.join(p.dir, map), 'utf8')) as { sources: string[] };
        for (const source of sources) expect(files, `${p.name} ${map} → ${source}`).toContain(path.posix.join(path.posix.dirname(map), source));
      }
    }
  }, 120_000);
});
