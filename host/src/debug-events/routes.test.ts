import { afterEach, describe, expect, it } from 'vitest';
import { serveOnLoopback } from '../../test/pipeline-support/fakes.js';
import { DebugRing, type DebugEventInput } from './debug-ring.js';
import { debugEventRoutes } from './routes.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const event = (status: string): DebugEventInput => ({ time: 1, type: 'uplink', status, in: { metadata: { topic: 't' } }, logs: [], timings: {} });

describe('debug event routes', () => {
  it('switch the mode at run time and validate it', async () => {
    const ring = new DebugRing('a');
    const app = debugEventRoutes((name) => (name === 'a' ? ring : undefined));
    const put = await app.request('/integrations/a/debug', { method: 'PUT', body: JSON.stringify({ mode: 'all', size: 5 }) });
    expect(await put.json()).toEqual({ integration: 'a', mode: 'all', size: 5, until: null });
    expect(ring.mode).toBe('all');
    expect((await app.request('/integrations/a/debug', { method: 'PUT', body: '{"mode":"loud"}' })).status).toBe(400);
    expect((await app.request('/integrations/zz/events')).status).toBe(404);
    ring.record(event('stored'));
    const list = (await (await app.request('/integrations/a/events?limit=10')).json()) as { events: { status: string }[] };
    expect(list.events.map((e) => e.status)).toEqual(['stored']);
  });

  it('bound every field of the debug body with a 400 that names it', async () => {
    const ring = new DebugRing('a');
    const app = debugEventRoutes(() => ring);
    const put = (body: unknown) => app.request('/integrations/a/debug', { method: 'PUT', body: JSON.stringify(body) });
    const refused = async (body: unknown) => {
      const res = await put(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      return ((await res.json()) as { error: string }).error;
    };
    expect(await refused({ mode: 'all', size: 1_000_000_000 })).toBe('size must be an integer from 1 to 10000, got 1000000000');
    expect(await refused({ mode: 'all', size: 0 })).toMatch(/^size must be an integer from 1 to 10000/);
    expect(await refused({ mode: 'all', size: 2.5 })).toMatch(/^size must be/);
    expect(await refused({ mode: 'all', durationMs: 3_000_000_000 })).toBe('durationMs must be an integer from 1 to 86400000, got 3000000000');
    expect(await refused({ mode: 'all', durationMs: '60000' })).toMatch(/^durationMs must be .* got "60000"$/);
    expect(await refused({ mode: 'loud' })).toBe('mode must be "off", "all" or "failures", got "loud"');
    expect(await refused({ mode: 'all', sizes: 5 })).toBe('unknown field "sizes": allowed are mode, size, durationMs');
    expect(await refused([1])).toMatch(/^body must be a JSON object/);
    expect(ring.size).toBe(200);
    expect((await put({ mode: 'all', size: 10_000, durationMs: 86_400_000 })).status).toBe(200);
    expect(ring.size).toBe(10_000);
    ring.close();
  });

  it('stream new events live over Server-Sent Events, and end when the integration goes', async () => {
    const ring = new DebugRing('a', { mode: 'all' });
    ring.record(event('old'));
    const server = await serveOnLoopback(debugEventRoutes(() => ring));
    cleanups.push(() => server.close());
    const res = await fetch(`${server.url}/integrations/a/events/stream`, { headers: { 'last-event-id': '0' } });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
    };
    await readUntil(/"status":"old"/);
    ring.record(event('new'));
    await readUntil(/"status":"new"/);
    expect(text).toMatch(/data: \{"id":2,"integration":"a","time":1,"type":"uplink","status":"new".*\}\nid: 2\n/);
    ring.close();
    await readUntil(/$^/); // until the server ends the stream
    expect((await reader.read()).done).toBe(true);
  });
});
