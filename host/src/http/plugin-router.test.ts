import { describe, expect, it } from 'vitest';
import type { HttpRouter, Logger } from '@tbi/plugin-api';
import { createPluginRouter, PLUGIN_PREFIX, REMOTE_ADDRESS_ENV, UNMATCHED_HEADER } from './plugin-router.js';

const quiet: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

describe('createPluginRouter', () => {
  it('serves routes registered through the contract interface only, under the type prefix', async () => {
    const router: HttpRouter = createPluginRouter(quiet, 'echo');
    router.on(['POST', 'PUT'], ['/k1', '/k1/:rest{.+}'], async (c) =>
      Response.json({
        method: c.req.method,
        rest: c.req.param('rest') ?? '',
        from: c.get('remoteAddress'),
        h: c.req.header('x-a'),
        q: c.req.query('q'),
        body: await c.req.raw.text(),
      }),
    );
    router.get('/k1', () => new Response('ok'));
    const base = `http://h${PLUGIN_PREFIX}/echo`;
    const post = await router.fetch(new Request(`${base}/k1/a/b?q=1`, { method: 'POST', body: 'hi', headers: { 'x-a': 'A' } }), {
      [REMOTE_ADDRESS_ENV]: '10.0.0.7',
    });
    expect(await post.json()).toEqual({ method: 'POST', rest: 'a/b', from: '10.0.0.7', h: 'A', q: '1', body: 'hi' });
    expect(await (await router.fetch(new Request(`${base}/k1`))).text()).toBe('ok');
    const missing = await router.fetch(new Request(`${base}/other`));
    expect(missing.status).toBe(404);
    expect(missing.headers.get(UNMATCHED_HEADER)).toBe('1');
  });
});
