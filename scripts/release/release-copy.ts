// The release as a maintainer makes it (docs/releasing.md), in a temporary copy of the repository so
// the working tree is untouched: `changeset version`, then `changeset publish` to a given registry.
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** A workspace package as the release sees it. */
export interface WorkspacePackage {
  name: string;
  version: string;
  dir: string;
  private: boolean;
}

/** The packages of the workspace at `root` (from pnpm's own listing), with their package.json facts. */
export async function workspacePackages(root: string): Promise<WorkspacePackage[]> {
  const { stdout } = await run('pnpm', ['-r', 'ls', '--depth', '-1', '--json'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const listed = JSON.parse(stdout) as Array<{ path: string }>;
  const packages: WorkspacePackage[] = [];
  for (const { path: dir } of listed) {
    if (dir === root) continue;
    const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string; private?: boolean };
    packages.push({ name: pkg.name, version: pkg.version, dir, private: pkg.private === true });
  }
  return packages;
}

/**
 * Copies the repository (tracked and new files, as git sees them, and the built `dist/` of every
 * package: the release publishes what `pnpm build` made) into `dest`, as a git repository of its
 * own whose node_modules is the workspace's.
 */
export async function copyRepository(dest: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const files = stdout.split('\0').filter((f) => f !== '' && !f.startsWith('.tools') && !f.startsWith('.cache'));
  await mkdir(dest, { recursive: true });
  for (const file of files) {
    await mkdir(path.dirname(path.join(dest, file)), { recursive: true });
    await cp(path.join(ROOT, file), path.join(dest, file), { verbatimSymlinks: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e; // deleted in the working tree, not yet in the index
    });
  }
  for (const pkg of await workspacePackages(ROOT)) {
    const rel = path.relative(ROOT, pkg.dir);
    await cp(path.join(pkg.dir, 'dist'), path.join(dest, rel, 'dist'), { recursive: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  await symlink(path.join(ROOT, 'node_modules'), path.join(dest, 'node_modules'));
  const git = (...args: string[]) => run('git', args, { cwd: dest });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('-c', 'user.name=tbi release rehearsal', '-c', 'user.email=rehearsal@localhost', 'commit', '-q', '-m', 'the tree to release');
}

/** Points npm and pnpm in `dir` at the registry, with its publishing token. */
export async function writeNpmrc(dir: string, registryUrl: string, token: string): Promise<void> {
  const host = registryUrl.replace(/^https?:/, '');
  await writeFile(path.join(dir, '.npmrc'), `registry=${registryUrl}\n${host}:_authToken=${token}\n`);
}

/** `changeset version` then `changeset publish` in the copy, as the root `release` script does. */
export async function versionAndPublish(copy: string): Promise<{ version: string; publish: string }> {
  const changeset = path.join(ROOT, 'node_modules', '.bin', 'changeset');
  const version = await run(changeset, ['version'], { cwd: copy });
  const publish = await run(changeset, ['publish'], { cwd: copy, maxBuffer: 16 * 1024 * 1024 });
  return { version: version.stdout + version.stderr, publish: publish.stdout + publish.stderr };
}

/** The third-party plugin of the rehearsal: the template, published under a scope not tbi's. */
export const THIRD_PARTY = '@acme/tbi-plugin-tcp-line';

/**
 * Builds the plugin template in the copy and publishes it as `THIRD_PARTY`, as its author would:
 * 0.1.0 for this plugin API, and 0.2.0 whose manifest declares a plugin API 2 that no host
 * provides (its peer range unchanged, so it installs: the version a host must refuse, naming both
 * versions and what to install).
 */
export async function publishThirdParty(copy: string): Promise<void> {
  const dir = path.join(copy, 'examples', 'plugin-template');
  await symlink(path.join(ROOT, 'examples', 'plugin-template', 'node_modules'), path.join(dir, 'node_modules'));
  await run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: dir });
  await run('cp', [path.join(copy, '.npmrc'), path.join(dir, '.npmrc')]);
  const original = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  const { private: _private, devDependencies: _dev, scripts: _scripts, ...published } = original;
  const tbi = published.tbi as Record<string, unknown>;
  const versions = [
    { version: '0.1.0', pluginApi: tbi.pluginApi as string },
    { version: '0.2.0', pluginApi: '^2.0.0' },
  ];
  for (const { version, pluginApi } of versions) {
    const pkg = { ...published, name: THIRD_PARTY, version, tbi: { ...tbi, pluginApi } };
    await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    await run('npm', ['publish', '--access', 'public', '--loglevel=error'], { cwd: dir });
  }
}
