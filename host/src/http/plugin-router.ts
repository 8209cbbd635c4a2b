import { Hono } from 'hono';
import type { HttpRouter, Logger } from '@tbi/plugin-api';

/** Where every plugin's routes live: `/api/v1/integrations/<type>/…`, as in ThingsBoard. */
export const PLUGIN_PREFIX = '/api/v1/integrations';

/** Env key the host passes the client's address under when it forwards a request to a plugin. */
export const REMOTE_ADDRESS_ENV = 'tbiRemoteAddress';

/** Header the host's not-found handler marks its answer with, so dispatch tries the next instance. */
export const UNMATCHED_HEADER = 'x-tbi-unmatched';

/**
 * Makes the router an integration instance mounts its routes on (relative to the prefix). The
 * host sets `remoteAddress` for every request and marks requests no route matched, so a type with
 * several instances can try each in turn.
 */
export function createPluginRouter(logger: Logger, type: string): HttpRouter {
  // The router carries the full prefix, so dispatch can hand it the original request untouched:
  // rebuilding a Request (and its body stream) per webhook call cost about half the throughput.
  const router = new Hono<{ Variables: { remoteAddress: string } }>().basePath(`${PLUGIN_PREFIX}/${type}`);
  router.use('*', async (c, next) => {
    const env = c.env as Record<string, unknown> | undefined;
    c.set('remoteAddress', typeof env?.[REMOTE_ADDRESS_ENV] === 'string' ? (env[REMOTE_ADDRESS_ENV] as string) : 'unknown');
    await next();
  });
  router.notFound((c) => c.json({ error: 'not found' }, 404, { [UNMATCHED_HEADER]: '1' }));
  router.onError((error, c) => {
    logger.error({ err: error, path: c.req.path }, 'plugin route failed');
    return c.json({ error: 'internal error' }, 500);
  });
  // Hono is the host's implementation of the contract's small `HttpRouter` interface: this
  // assignment is checked by the compiler, so the two cannot drift apart.
  const contract: HttpRouter = router;
  return contract;
}
