import { Hono, type Context } from 'hono';
import { isTbiError, type ReplayPoint } from '@tbi/plugin-api';
import type { HostEnv } from '../http/create-app.js';
import { problem } from '../pipeline/http-problem.js';
import { isReplayRequestError, type ReplayJobs } from './replay-jobs.js';
import { parseReplayPoint } from './replay-point.js';

/**
 * The replay API (under `/api`, behind the token):
 * - `POST /integrations/:name/replays` `{from, to?}` — starts a replay; 202 with it. `from`/`to`:
 *   an ISO time or an offset string, or `{time: <epoch ms>}` / `{offset}`.
 * - `GET /replays` — newest first; `GET /replays/:id` — one, with `rate` and `percent`.
 * - `DELETE /replays/:id` — cancels it (what it stored stays stored).
 */
export function replayRoutes(jobs: ReplayJobs): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
  const fail = (c: Context<HostEnv>, error: unknown) => {
    if (isReplayRequestError(error)) return problem(c, error.status, error.code, error.message);
    if (isTbiError(error)) return problem(c, 400, error.code, error.message);
    throw error;
  };

  app.post('/integrations/:name/replays', async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as { from?: unknown; to?: unknown } | undefined;
    if (typeof body !== 'object' || body === null || body.from === undefined) {
      return problem(c, 400, 'BAD_REQUEST', 'expected a JSON body {"from": "<ISO time or offset>", "to"?: "..."}');
    }
    try {
      const from: ReplayPoint = parseReplayPoint(body.from, 'from');
      const to = body.to === undefined || body.to === null ? undefined : parseReplayPoint(body.to, 'to');
      return c.json(jobs.start(c.req.param('name'), from, to), 202);
    } catch (error) {
      return fail(c, error);
    }
  });

  app.get('/replays', (c) => c.json({ replays: jobs.list() }));

  app.get('/replays/:id{[0-9]+}', (c) => {
    const replay = jobs.get(Number(c.req.param('id')));
    return replay ? c.json(replay) : problem(c, 404, 'REPLAY_NOT_FOUND', `no replay ${c.req.param('id')}`);
  });

  app.delete('/replays/:id{[0-9]+}', async (c) => {
    try {
      return c.json(await jobs.cancel(Number(c.req.param('id'))));
    } catch (error) {
      return fail(c, error);
    }
  });
  return app;
}
