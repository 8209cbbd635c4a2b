import { Hono, type Context } from 'hono';
import type { Logger } from '@tbi/plugin-api';
import type { IntegrationInstance } from '../lifecycle/integration-instance.js';
import type { Supervisor } from '../lifecycle/supervisor.js';
import type { HostEnv } from './create-app.js';

/**
 * How a running host picks up a fixed converter (under `/api`, behind the token). `tbi.yaml`
 * itself is not re-read by either route:
 * - `POST /integrations/:name/reload`: re-reads the converter files and swaps them in atomically;
 *   the connector keeps its connection. 200 `{reloaded: "converters" | "started", status}`; 422
 *   when a source does not load or compile (the running converter stays). A stopped or failed
 *   integration is started instead.
 * - `POST /integrations/:name/restart`: stops the integration and starts it again, rebuilding its
 *   connector and converters. 200 with the status, 500 when it failed to start.
 */
export function integrationReloadRoutes(supervisor: Supervisor, logger: Logger): Hono<HostEnv> {
  const app = new Hono<HostEnv>();

  const find = (c: Context<HostEnv>, what: string): IntegrationInstance | Response => {
    const instance = supervisor.get(c.req.param('name')!);
    if (!instance) return c.json({ error: `no integration named "${c.req.param('name')}"` }, 404);
    if (supervisor.shuttingDown) return c.json({ error: 'the host is shutting down' }, 503);
    logger.info({ integration: instance.name, remoteAddress: c.get('remoteAddress') }, `${what} requested through the API`);
    return instance;
  };

  app.post('/integrations/:name/reload', async (c) => {
    const instance = find(c, 'converter reload');
    if (instance instanceof Response) return instance;
    try {
      const reloaded = await instance.reloadConverters();
      const status = instance.status();
      return c.json({ reloaded: reloaded === 'replaced' ? 'converters' : 'started', status }, status.state === 'failed' ? 500 : 200);
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      return c.json({ error: `the running converters were kept: ${message}`, status: instance.status() }, 422);
    }
  });

  app.post('/integrations/:name/restart', async (c) => {
    const instance = find(c, 'restart');
    if (instance instanceof Response) return instance;
    // keepDesired: the integration is meant to run throughout; only its parts are rebuilt.
    await instance.stop({ keepDesired: true });
    await instance.start();
    const status = instance.status();
    return c.json(status, status.state === 'failed' ? 500 : 200);
  });
  return app;
}
