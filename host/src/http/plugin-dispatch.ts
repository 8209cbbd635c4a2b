import type { Context } from 'hono';
import type { HttpRouter } from '@tbi/plugin-api';
import { REMOTE_ADDRESS_ENV, UNMATCHED_HEADER } from './plugin-router.js';

/** What dispatch needs to know about one integration instance. */
export interface RoutableInstance {
  readonly name: string;
  /** The router while the instance is running (start resolved), else undefined. */
  liveRouter(): HttpRouter | undefined;
  /** True when the instance is meant to run (so a request should wait, not 404). */
  wantsToRun(): boolean;
}

/**
 * Forwards a request under `/api/v1/integrations/<type>/` to the routers of that type's instances
 * (which carry the prefix as their base path) until one matches. Answers 503 while an instance that should run has
 * not started (Backstage's lifecycle middleware does the same), 404 when nothing matches.
 */
export function dispatchToPlugins(instancesOf: (type: string) => readonly RoutableInstance[]) {
  return async (c: Context<{ Variables: { remoteAddress: string } }>): Promise<Response> => {
    const type = c.req.param('type') ?? '';
    const instances = instancesOf(type);
    if (instances.length === 0) return c.json({ error: `no integration of type "${type}" is configured` }, 404);
    const live = instances.map((i) => i.liveRouter()).filter((r): r is HttpRouter => r !== undefined);
    const env = { ...(c.env as object | undefined), [REMOTE_ADDRESS_ENV]: c.get('remoteAddress') };
    for (const [index, router] of live.entries()) {
      // A body can be read once: every router but the last gets a copy.
      const request = index < live.length - 1 ? c.req.raw.clone() : c.req.raw;
      const response = await router.fetch(request, env);
      if (!response.headers.has(UNMATCHED_HEADER)) return response;
    }
    const waiting = instances.filter((i) => i.wantsToRun() && i.liveRouter() === undefined);
    if (waiting.length > 0) {
      return c.json({ error: `integration ${waiting.map((i) => `"${i.name}"`).join(', ')} is not running yet` }, 503, { 'Retry-After': '5' });
    }
    return c.json({ error: 'not found' }, 404);
  };
}
