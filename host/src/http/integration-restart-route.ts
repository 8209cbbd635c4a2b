import { Hono } from 'hono';
import type { Logger } from '@tbi/plugin-api';
import type { Supervisor } from '../lifecycle/supervisor.js';
import type { HostEnv } from './create-app.js';

/**
 * `POST /integrations/:name/restart` (under `/api`, behind the token): stops the integration and
 * starts it again, which re-reads its converter files and rebuilds its converters and connector,
 * so a fixed converter takes effect without restarting the host. `tbi.yaml` itself is not re-read.
 * Answers the new status: 200 when it runs again, 500 when it failed to start (the error says why).
 */
export function integrationRestartRoute(supervisor: Supervisor, logger: Logger): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
  app.post('/integrations/:name/restart', async (c) => {
    const instance = supervisor.get(c.req.param('name'));
    if (!instance) return c.json({ error: `no integration named "${c.req.param('name')}"` }, 404);
    if (supervisor.shuttingDown) return c.json({ error: 'the host is shutting down' }, 503);
    logger.info({ integration: instance.name, remoteAddress: c.get('remoteAddress') }, 'restart requested through the API');
    // keepDesired: the integration is meant to run throughout; only its parts are rebuilt.
    await instance.stop({ keepDesired: true });
    await instance.start();
    const status = instance.status();
    return c.json(status, status.state === 'failed' ? 500 : 200);
  });
  return app;
}
