import { Hono, type Context } from 'hono';
import { loadConsoleAssets, type ConsoleAsset } from './console-assets.js';

/**
 * What the console's pages may load: only this host. The browser itself then refuses any request
 * to another origin (scripts, styles, fetches, the event stream). CodeMirror and uPlot set inline
 * styles, hence `style-src 'unsafe-inline'`; scripts are the bundle only.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function send(c: Context, asset: ConsoleAsset): Response {
  const gzip = asset.gzip !== undefined && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
  return c.body((gzip ? asset.gzip : asset.body) as Uint8Array<ArrayBuffer>, 200, {
    'Content-Type': asset.contentType,
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    Vary: 'Accept-Encoding',
    'Content-Security-Policy': CONSOLE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    // Small files, and a host upgrade changes them: revalidate rather than cache stale code.
    'Cache-Control': 'no-cache',
  });
}

/**
 * The web console as a Hono app with its own paths (`/console/` and its files; `/console`
 * redirects there): the page and its bundled script and style, nothing else. It holds no data
 * and needs no token; the page signs in with the control token and calls the host's `/api/*`,
 * which checks it.
 *
 * @example
 * app.route('/', consoleRoutes()); // GET /console/ → the page
 */
export function consoleRoutes(options: { assets?: Map<string, ConsoleAsset> } = {}): Hono {
  const assets = options.assets ?? loadConsoleAssets();
  const app = new Hono();
  app.get('/console', (c) => c.redirect('/console/'));
  app.get('/console/', (c) => {
    const page = assets?.get('index.html');
    if (!page) return c.json({ error: 'the console assets are not built: run `pnpm build` in @tbi/console' }, 503);
    return send(c, page);
  });
  app.get('/console/:file{[a-z][a-z0-9.-]*\\.(js|css|txt)}', (c) => {
    const asset = assets?.get(c.req.param('file'));
    return asset ? send(c, asset) : c.json({ error: 'not found' }, 404);
  });
  return app;
}
