import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** One file of the console, read once. */
export interface ConsoleAsset {
  body: Uint8Array;
  /** The same bytes gzipped at build time, when the build made them. */
  gzip?: Uint8Array;
  contentType: string;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

/** Where `build.mjs` puts the bundle: `dist/assets`, seen from `src/` and from `dist/` alike. */
export const ASSETS_DIR = new URL('../dist/assets/', import.meta.url);

/**
 * The bundled console files by name (`index.html`, `console.js`, …), or undefined when the
 * package was not built (a source checkout before `pnpm build`).
 */
export function loadConsoleAssets(dir: URL = ASSETS_DIR): Map<string, ConsoleAsset> | undefined {
  if (!existsSync(new URL('index.html', dir))) return undefined;
  const assets = new Map<string, ConsoleAsset>();
  const names = readdirSync(dir);
  for (const name of names.filter((n) => !n.endsWith('.gz'))) {
    const ext = name.slice(name.lastIndexOf('.') + 1);
    const gzip = names.includes(`${name}.gz`) ? { gzip: readFileSync(new URL(`${name}.gz`, dir)) } : {};
    assets.set(name, { body: readFileSync(new URL(name, dir)), ...gzip, contentType: TYPES[ext] ?? 'application/octet-stream' });
  }
  return assets;
}
