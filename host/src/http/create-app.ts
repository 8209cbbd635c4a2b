import { Hono, type Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Logger } from '@tbi/plugin-api';
import type { Supervisor } from '../lifecycle/supervisor.js';
import type { PromMetrics } from '../metrics/prom-metrics.js';
import type { PluginList } from '../plugins/plugin-listing.js';
import { bearerAuth, bearerTokenCheck } from './bearer-auth.js';
import { bodyLimitByHeaders } from './body-limit.js';
import { integrationReloadRoutes } from './integration-reload-routes.js';
import { dispatchToPlugins } from './plugin-dispatch.js';
import { PLUGIN_PREFIX } from './plugin-router.js';
import { refuseTrace } from './refuse-trace.js';

/** The variables every request carries. */
export type HostEnv = { Variables: { remoteAddress: string } };

/** What the host's HTTP surface is built from. */
export interface HostAppDeps {
  supervisor: Supervisor;
  metrics: PromMetrics;
  logger: Logger;
  /** The control API's bearer token; undefined disables the control API (all 401). */
  token: string | undefined;
  bodyLimitBytes: number;
  plugins: () => PluginList;
  /** More control routes, mounted under `/api` behind the token (pipeline, platform, converters). */
  // biome-ignore lint/suspicious/noExplicitAny: routers of any Hono env (each declares its own variables).
  apiRoutes?: readonly Hono<any>[];
  /** The web console's routes (`/console/…`; its files are static, every call it makes goes to `/api`). */
  // biome-ignore lint/suspicious/noExplicitAny: a router of any Hono env.
  console?: Hono<any>;
  /** Called before `/metrics` renders, to refresh gauges that are read, not pushed. */
  beforeScrape?: () => void;
}

function remoteAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // no socket: an in-process request (`app.request()` in tests)
  }
}

/**
 * The host's one Hono app: health, readiness, metrics, the token-protected control API, and each
 * plugin's routes under `/api/v1/integrations/<type>/`. Host routes are registered first and
 * plugins only ever see requests under their own prefix, so no plugin can shadow a host route.
 */
export function createHostApp(deps: HostAppDeps): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
  const { supervisor } = deps;

  app.use('*', refuseTrace());
  app.use('*', async (c, next) => {
    c.set('remoteAddress', remoteAddress(c));
    await next();
  });
  app.use(
    '*',
    bodyLimitByHeaders({
      maxSize: deps.bodyLimitBytes,
      onError: (c) => c.json({ error: `request body larger than ${deps.bodyLimitBytes} bytes` }, 413),
    }),
  );

  app.get('/healthz', (c) => c.json({ status: supervisor.shuttingDown ? 'stopping' : 'ok' }));
  // Without the token readiness is only a yes or no: the details name every webhook URL, and a
  // generated routing key is the webhook's only secret when no headers filter is set.
  const hasToken = bearerTokenCheck(deps.token);
  app.get('/readyz', (c) => {
    const readiness = supervisor.readiness();
    return c.json(hasToken(c) ? readiness : { ready: readiness.ready }, readiness.ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    deps.beforeScrape?.();
    const { contentType, body } = await deps.metrics.text();
    return c.body(body, 200, { 'Content-Type': contentType });
  });

  const auth = bearerAuth(deps.token);
  app.use('/api/*', async (c, next) => (c.req.path.startsWith(`${PLUGIN_PREFIX}/`) ? next() : auth(c, next)));

  app.get('/api/plugins', (c) => c.json(deps.plugins()));
  app.get('/api/integrations', (c) => c.json({ integrations: supervisor.all().map((i) => i.status()) }));
  app.get('/api/integrations/:name', (c) => {
    const instance = supervisor.get(c.req.param('name'));
    return instance ? c.json(instance.status()) : c.json({ error: `no integration named "${c.req.param('name')}"` }, 404);
  });
  app.post('/api/integrations/:name/:action{start|stop}', async (c) => {
    const instance = supervisor.get(c.req.param('name'));
    if (!instance) return c.json({ error: `no integration named "${c.req.param('name')}"` }, 404);
    if (supervisor.shuttingDown) return c.json({ error: 'the host is shutting down' }, 503);
    const action = c.req.param('action');
    deps.logger.info({ integration: instance.name, remoteAddress: c.get('remoteAddress') }, `${action} requested through the API`);
    await (action === 'start' ? instance.start() : instance.stop());
    const status = instance.status();
    return c.json(status, action === 'start' && status.state === 'failed' ? 500 : 200);
  });
  app.route('/api', integrationReloadRoutes(supervisor, deps.logger));
  for (const routes of deps.apiRoutes ?? []) app.route('/api', routes);

  if (deps.console) {
    app.get('/', (c) => c.redirect('/console/'));
    app.route('/', deps.console);
  }

  const dispatch = dispatchToPlugins((type) => supervisor.ofType(type));
  app.all(`${PLUGIN_PREFIX}/:type`, dispatch);
  app.all(`${PLUGIN_PREFIX}/:type/*`, dispatch);

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((err, c) => {
    deps.logger.error({ err, path: c.req.path }, 'request failed');
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
