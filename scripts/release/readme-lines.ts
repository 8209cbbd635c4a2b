// The install commands the docs show, read from the docs themselves, so that the rehearsal runs
// exactly what a user reads and the two cannot drift apart.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/**
 * The command lines of the fenced block after `<!-- install:<name> -->` in README.md (comments
 * and blank lines left out).
 *
 * @example readmeInstall('npm') // ['npm init -y', 'npm install @tbi/host @tbi/plugin-http', …]
 */
export function readmeInstall(name: string, file = path.join(ROOT, 'README.md')): string[] {
  const text = readFileSync(file, 'utf8');
  const marker = `<!-- install:${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${file} has no ${marker}`);
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(text.slice(at));
  if (!block) throw new Error(`${file}: no fenced block after ${marker}`);
  return block[1]!
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The install line a connector's README starts with (its first `npm install` line). */
export function connectorInstallLine(type: string): string {
  const file = path.join(ROOT, 'plugins', type, 'README.md');
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('npm install '));
  if (!line) throw new Error(`${file} has no \`npm install …\` line`);
  return line.trim();
}
