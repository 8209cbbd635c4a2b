import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HOST_DIR = path.resolve(import.meta.dirname, '../..');
const ROOT = path.resolve(HOST_DIR, '..');
/** The fixture plugin packages (host/test/fixtures/plugins/<name>). */
export const FIXTURES = path.join(HOST_DIR, 'test', 'fixtures', 'plugins');
/** The `tbi` executable of the built host. */
export const TBI_BIN = path.join(HOST_DIR, 'bin', 'tbi.js');

const tarballs = new Map<string, Promise<string>>();

/** `pnpm pack`s a package directory once per test file; returns the tarball path. */
function pack(dir: string, dest: string): Promise<string> {
  let tarball = tarballs.get(dir);
  if (!tarball) {
    tarball = (async () => {
      const out = await mkdtemp(path.join(dest, 'pack-'));
      await run('pnpm', ['pack', '--pack-destination', out], { cwd: dir });
      const [file] = await readdir(out);
      return path.join(out, file!);
    })();
    tarballs.set(dir, tarball);
  }
  return tarball;
}

/**
 * Makes a temporary project (a package.json) and installs the built `@tbi/plugin-api` and the
 * named fixture plugins into it from packed tarballs with npm, as a user would: no workspace links.
 */
export async function packedProject(fixtures: readonly string[], extra: Record<string, unknown> = {}): Promise<string> {
  const base = await mkdtemp(path.join(tmpdir(), 'tbi-project-'));
  const files = await Promise.all([
    pack(path.join(ROOT, 'packages', 'plugin-api'), tmpdir()),
    ...fixtures.map((name) => pack(path.join(FIXTURES, name), tmpdir())),
  ]);
  const project = path.join(base, 'project');
  await mkdir(project);
  await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'tbi-test-project', private: true, ...extra }, null, 2));
  await run('npm', ['install', '--no-audit', '--no-fund', '--offline', '--loglevel=error', ...files], { cwd: project });
  return project;
}
