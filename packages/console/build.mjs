// Bundles the browser code (web/) into dist/assets: console.js, console.css and index.html. The
// host serves these files as they are; users never run a build. Prints the sizes (raw and gzip).
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const out = new URL('./dist/assets/', import.meta.url).pathname;
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { console: new URL('./web/main.ts', import.meta.url).pathname },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: out,
  legalComments: 'linked',
  logLevel: 'warning',
});
await copyFile(new URL('./web/index.html', import.meta.url), `${out}index.html`);
// Each file also gzipped once here, so the host sends the small copy to browsers that take gzip.
const rows = [];
for (const name of (await readdir(out)).sort()) {
  const bytes = await readFile(out + name);
  const gzipped = gzipSync(bytes, { level: 9 });
  await writeFile(`${out}${name}.gz`, gzipped);
  rows.push(`${name} ${(bytes.length / 1024).toFixed(1)} kB (gzip ${(gzipped.length / 1024).toFixed(1)} kB)`);
}
console.log(`@tbi/console assets: ${rows.join(', ')}`);
