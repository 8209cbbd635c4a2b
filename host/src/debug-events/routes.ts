import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { intParam, problem } from '../pipeline/http-problem.js';
import { parseDebugModeRequest } from './debug-mode-request.js';
import type { DebugEvent, DebugRing } from './debug-ring.js';

/** Most events a live stream buffers for a slow client before it drops (and counts) the rest. */
const STREAM_BUFFER = 1000;
const HEARTBEAT_MS = 15_000;

/**
 * Routes of the debug events (mounted by the host under `/api`):
 * - `GET /integrations/:name/events?limit&type` — recent events, newest first.
 * - `GET /integrations/:name/events/stream` — live Server-Sent Events (`Last-Event-ID` resumes).
 * - `DELETE /integrations/:name/events` — clears the ring.
 * - `GET|PUT /integrations/:name/debug` — reads or sets `{mode, size?, durationMs?}` (bounds in
 *   `debug-mode-request.ts`).
 */
export function debugEventRoutes(ringOf: (integration: string) => DebugRing | undefined): Hono {
  const app = new Hono();

  const notFound = (c: Parameters<typeof problem>[0], name: string): Response =>
    problem(c, 404, 'INTEGRATION_NOT_FOUND', `no running integration is named "${name}"`);

  app.get('/integrations/:name/events', (c) => {
    const name = c.req.param('name');
    const ring = ringOf(name);
    if (!ring) return notFound(c, name);
    const limit = intParam(c.req.query('limit'), 10_000);
    const type = c.req.query('type');
    if (limit === null) return problem(c, 400, 'BAD_REQUEST', 'limit must be a non-negative integer');
    if (type !== undefined && type !== 'uplink' && type !== 'downlink') {
      return problem(c, 400, 'BAD_REQUEST', 'type must be "uplink" or "downlink"');
    }
    return c.json({ integration: name, mode: ring.mode, size: ring.size, events: ring.list({ limit, type }) });
  });

  app.delete('/integrations/:name/events', (c) => {
    const name = c.req.param('name');
    const ring = ringOf(name);
    if (!ring) return notFound(c, name);
    ring.clear();
    return c.body(null, 204);
  });

  app.get('/integrations/:name/events/stream', (c) => {
    const name = c.req.param('name');
    const ring = ringOf(name);
    if (!ring) return notFound(c, name);
    const lastId = intParam(c.req.header('last-event-id') ?? undefined);
    return streamSSE(c, async (stream) => {
      const queue: DebugEvent[] = [];
      let dropped = 0;
      let closed = false;
      let wake: (() => void) | undefined;
      const unsubscribe = ring.subscribe(
        (event) => {
          if (queue.length < STREAM_BUFFER) queue.push(event);
          else dropped++;
          wake?.();
        },
        () => {
          closed = true;
          wake?.();
        },
      );
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      // A reconnecting client first gets what it missed that the ring still holds.
      if (typeof lastId === 'number') queue.push(...ring.list({ afterId: lastId }).reverse());
      try {
        await stream.write(`: debug events of ${name}, mode ${ring.mode}\n\n`);
        while (!closed) {
          while (queue.length > 0 && !closed) {
            const event = queue.shift()!;
            await stream.writeSSE({ id: String(event.id), data: JSON.stringify(event) });
          }
          if (dropped > 0) {
            await stream.writeSSE({ event: 'dropped', data: JSON.stringify({ dropped }) });
            dropped = 0;
          }
          if (closed) break;
          const woke = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), HEARTBEAT_MS);
            wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          wake = undefined;
          if (!woke && !closed) await stream.write(': ping\n\n');
        }
      } finally {
        unsubscribe();
      }
    });
  });

  app.get('/integrations/:name/debug', (c) => {
    const name = c.req.param('name');
    const ring = ringOf(name);
    if (!ring) return notFound(c, name);
    return c.json({ integration: name, mode: ring.mode, size: ring.size, until: ring.modeUntil ?? null });
  });

  app.put('/integrations/:name/debug', async (c) => {
    const name = c.req.param('name');
    const ring = ringOf(name);
    if (!ring) return notFound(c, name);
    const request = parseDebugModeRequest(await c.req.json().catch(() => undefined));
    if ('error' in request) return problem(c, 400, 'BAD_REQUEST', request.error);
    ring.setMode(request.mode, { size: request.size, durationMs: request.durationMs });
    return c.json({ integration: name, mode: ring.mode, size: ring.size, until: ring.modeUntil ?? null });
  });

  return app;
}
