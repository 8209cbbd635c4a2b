import type { MiddlewareHandler } from 'hono';

/** Methods the Fetch API's `Request` cannot carry; `@hono/node-server` turns them into `GET` when a request is cloned. */
const UNREPRESENTABLE = new Set(['TRACE', 'TRACK', 'CONNECT']);

/** What the host's routes serve at all; a plugin's own 405 names the methods of its route. */
const SERVED = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * Answers `TRACE`, `TRACK` and `CONNECT` with 405 before any route sees them. Without this a
 * `TRACE` to a webhook reached the plugin as a `GET` (the request is rebuilt when several
 * instances share a type), and TRACE would echo request headers back (cross-site tracing).
 */
export function refuseTrace(): MiddlewareHandler {
  return async (c, next) => {
    if (!UNREPRESENTABLE.has(c.req.method.toUpperCase())) return next();
    return c.json({ error: `method ${c.req.method} is not allowed` }, 405, { Allow: SERVED });
  };
}
