import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

export interface BodyLimitOptions {
  maxSize: number;
  onError: (c: Context) => Response | Promise<Response>;
}

/**
 * Hono's `bodyLimit`, without its cost on requests whose size is already known. Hono's middleware
 * first reads `c.req.raw.body`, which makes @hono/node-server build a full Fetch `Request` and a
 * web stream for every request, GET included: the largest per-request cost of a webhook in the
 * profile (plugins/http/README.md). Here a GET or HEAD passes, a body with a Content-Length (and
 * no Transfer-Encoding) is judged by that header, as hono does; only a chunked body is counted by
 * hono's middleware.
 */
export function bodyLimitByHeaders(options: BodyLimitOptions): MiddlewareHandler {
  const counting = bodyLimit(options);
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const headers = c.req.raw.headers;
    const length = headers.get('content-length');
    if (length === null || headers.has('transfer-encoding')) return counting(c, next);
    return Number.parseInt(length, 10) > options.maxSize ? options.onError(c) : next();
  };
}
