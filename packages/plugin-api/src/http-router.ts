/** The request as a plugin's route handler sees it (a subset of Hono's `c.req`). */
export interface HttpRequestView {
  /** The standard `Request`: headers, body streams (`raw.arrayBuffer()`, `raw.body`). */
  readonly raw: Request;
  readonly method: string;
  readonly url: string;
  /** The path, prefix included, e.g. `/api/v1/integrations/http/abc/status`. */
  readonly path: string;
  /** A path parameter of the matched route (`/:key`), if present. */
  param(name: string): string | undefined;
  /** A request header (case-insensitive), if present. */
  header(name: string): string | undefined;
  /** A query parameter, if present. */
  query(name: string): string | undefined;
}

/** What a route handler receives. */
export interface HttpRequestContext {
  readonly req: HttpRequestView;
  /** The client's address as the host saw it (`remoteAddress`), for allow-lists and logs. */
  get(key: 'remoteAddress'): string;
}

/** A route handler: answers with a standard `Response`. */
export type HttpHandler = (c: HttpRequestContext) => Response | Promise<Response>;

/**
 * Routes mounted by a plugin, relative to its prefix `/api/v1/integrations/<type>`. Several
 * instances of one type share the prefix, so put the instance's own key in the path (the HTTP
 * connector uses its routing key). The host answers 503 until the integration has started. Path
 * patterns follow Hono's syntax (`/:key`, `/:rest{.+}`), which is what the host runs, but the
 * contract promises only this interface (since 1.2; in 1.1 it was Hono's type).
 *
 * @example
 * ctx.http.post(`/${key}`, async (c) => {
 *   const outcomes = await ctx.uplink.submit([{ payload: new Uint8Array(await c.req.raw.arrayBuffer()), metadata: {} }]);
 *   return new Response(null, { status: outcomes[0]?.status === 'stored' ? 200 : 400 });
 * });
 */
export interface HttpRouter {
  get(path: string, handler: HttpHandler): unknown;
  post(path: string, handler: HttpHandler): unknown;
  put(path: string, handler: HttpHandler): unknown;
  delete(path: string, handler: HttpHandler): unknown;
  /** Any method. */
  all(path: string, handler: HttpHandler): unknown;
  /** Several methods and paths with one handler. */
  on(methods: string | string[], paths: string | string[], handler: HttpHandler): unknown;
  /**
   * Answers one request as the host would (prefix included in its URL): tests call routes
   * without a socket, like Fastify's `inject`.
   */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}
