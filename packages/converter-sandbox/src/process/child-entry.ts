import { fileURLToPath } from 'node:url';

/**
 * The file a converter process runs. From the built package it is `converter-child.js` beside
 * this file; when this module is loaded from its TypeScript source (the workspace's tests), the
 * built copy in `dist/` is used, since a plain `node` child cannot run the sources.
 */
export function childEntry(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../dist/process/converter-child.js' : './converter-child.js', import.meta.url));
}
