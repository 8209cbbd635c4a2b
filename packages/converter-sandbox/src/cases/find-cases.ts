import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { CASES_SUFFIX } from './case-file.js';

const SKIP = new Set(['node_modules', 'dist', 'coverage']);

/**
 * Finds every `*.cases.json` under `dir` (recursively; skips `node_modules`, `dist`, `coverage`
 * and dot-folders), as sorted absolute paths.
 *
 * @example
 * for (const file of await findConverterCases('converters')) console.log(file);
 */
export async function findConverterCases(dir: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(current: string): Promise<void> {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.') && !SKIP.has(entry.name)) await walk(path.join(current, entry.name));
      } else if (entry.isFile() && entry.name.endsWith(CASES_SUFFIX)) {
        found.push(path.join(current, entry.name));
      }
    }
  }
  await walk(path.resolve(dir));
  return found.sort();
}
