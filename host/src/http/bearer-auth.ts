import { constantTimeEqual } from '@tbi/plugin-api';
import type { Context, MiddlewareHandler } from 'hono';

/**
 * Requires `Authorization: Bearer <token>` and answers 401 otherwise. Compares with
 * `constantTimeEqual`, so neither the token's content nor its length leaks through timing.
 * Without a configured token every request is refused: the control API is off.
 *
 * Server-Sent Events streams (paths ending in `/stream`) also take `?token=`, because a browser's
 * `EventSource` cannot send headers.
 */
export function bearerAuth(token: string | undefined): MiddlewareHandler {
  const matches = bearerTokenCheck(token);
  return async (c, next) => {
    if (!matches(c)) {
      c.header('WWW-Authenticate', 'Bearer realm="tbi"');
      const error =
        token === undefined
          ? 'the control API is disabled: set auth.token in the config or the TBI_TOKEN environment variable'
          : 'missing or wrong bearer token (send "Authorization: Bearer <token>")';
      return c.json({ error }, 401);
    }
    await next();
  };
}

/**
 * Whether a request carries the control token (`Authorization: Bearer`, or `?token=` on
 * `/stream` paths), for routes that answer everyone but show details only to the token's holder.
 * Always false without a configured token.
 */
export function bearerTokenCheck(token: string | undefined): (c: Context) => boolean {
  return (c) => {
    if (token === undefined) return false;
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    const given = match?.[1] ?? (c.req.path.endsWith('/stream') ? c.req.query('token') : undefined);
    return given !== undefined && constantTimeEqual(given, token);
  };
}
