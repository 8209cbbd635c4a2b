import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadConsoleAssets } from './console-assets.js';
import { CONSOLE_CSP, consoleRoutes } from './console-routes.js';

async function assetsDir(): Promise<URL> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tbi-console-assets-'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>tbi console</title>');
  await writeFile(path.join(dir, 'console.js'), 'console.log(1)');
  await writeFile(path.join(dir, 'console.js.gz'), gzipSync('console.log(1)'));
  return pathToFileURL(`${dir}/`);
}

describe('consoleRoutes', () => {
  it('serves the page and its files with a same-origin-only CSP, and redirects /console', async () => {
    const app = consoleRoutes({ assets: loadConsoleAssets(await assetsDir())! });
    const page = await app.request('/console/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("connect-src 'self'");
    expect(await page.text()).toContain('tbi console');
    const script = await app.request('/console/console.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect(script.headers.get('content-encoding')).toBeNull();
    expect(await script.text()).toBe('console.log(1)');
    const zipped = await app.request('/console/console.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(new Uint8Array(await zipped.arrayBuffer())).toString()).toBe('console.log(1)');
    expect((await app.request('/console/console.js.gz')).status).toBe(404);
    const bare = await app.request('/console');
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('/console/');
  });

  it('answers 404 for files it does not have, and never serves paths outside its folder', async () => {
    const app = consoleRoutes({ assets: loadConsoleAssets(await assetsDir())! });
    expect((await app.request('/console/missing.js')).status).toBe(404);
    expect((await app.request('/console/..%2Fpackage.json')).status).toBe(404);
  });

  it('explains with 503 when the package was not built', async () => {
    const empty = pathToFileURL(`${await mkdtemp(path.join(tmpdir(), 'tbi-console-none-'))}/`);
    expect(loadConsoleAssets(empty)).toBeUndefined();
    const none = consoleRoutes({ assets: new Map() });
    const missing = await none.request('/console/');
    expect(missing.status).toBe(503);
    expect(((await missing.json()) as { error: string }).error).toContain('pnpm build');
  });
});
