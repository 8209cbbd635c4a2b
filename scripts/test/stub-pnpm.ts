// A stand-in `pnpm` for tests of the scripts' own output handling (bootstrap must stay quiet when
// install and build work, and show their log when they fail), so those tests do not reinstall or
// rebuild the workspace that other test files are using. The real install and build run at the
// start of every scripts/test.sh.
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A folder holding a `pnpm` that prints a build log, and fails `pnpm -s build` when told to. */
export async function stubPnpm(options: { failBuild?: boolean } = {}): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tbi-stub-pnpm-'));
  const script = [
    '#!/bin/sh',
    'if [ "$1" = "--version" ]; then echo 12.21.0; exit 0; fi',
    'echo "stub pnpm $*: Progress: resolved 1234, reused 1234, downloaded 0, added 0"',
    'echo "stub pnpm $*: > tsc -p tsconfig.build.json" >&2',
    options.failBuild ? 'if [ "$1" = "-s" ] && [ "$2" = "build" ]; then echo "src/x.ts(1,1): error TS2304: Cannot find name \'nope\'."; exit 2; fi' : '',
    'exit 0',
  ].join('\n');
  await writeFile(path.join(dir, 'pnpm'), `${script}\n`);
  await chmod(path.join(dir, 'pnpm'), 0o755);
  // The stub first, then this Node (bootstrap checks its version), then the system's tools.
  const env = { PATH: [dir, path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':') };
  return { dir, env };
}
