import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The version of @tbi/host, from its package.json (works from src/ and dist/). */
export function hostVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
