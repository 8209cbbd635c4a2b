import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Requires `Authorization: Bearer <token>` and answers 401 otherwise. Compares SHA-256 digests
 * with `timingSafeEqual`, so neither the token's content nor its length leaks through timing.
 * Without a configured token every request is refused: the control API is off.
 *
 * Server-Sent Events streams (paths ending in `/stream`) also take `?token=`, because a browser's
 * `EventSource` cannot send headers.
 */
export function bearerAuth(token: string | undefined): MiddlewareHandler {
  const expected = token === undefined ? undefined : digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    const given = match?.[1] ?? (c.req.path.endsWith('/stream') ? c.req.query('token') : undefined);
    if (expected === undefined || given === undefined || !timingSafeEqual(digest(given), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="tbi"');
      const error =
        expected === undefined
          ? 'the control API is disabled: set auth.token in the config or the TBI_TOKEN environment variable'
          : 'missing or wrong bearer token (send "Authorization: Bearer <token>")';
      return c.json({ error }, 401);
    }
    await next();
  };
}
