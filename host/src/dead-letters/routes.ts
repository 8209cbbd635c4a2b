import { Hono, type Context } from 'hono';
import { intParam, problem } from '../pipeline/http-problem.js';
import type { ReplayReport } from '../pipeline/replay.js';
import type { DeadLetterFilter, DeadLetterStore } from './dead-letter-store.js';
import { viewDeadLetter, type DeadLetterPage } from './dead-letter-view.js';

const PREVIEW_BYTES = 256;

function parseIds(value: unknown): number[] | undefined | null {
  if (value === undefined) return undefined;
  const list =
    typeof value === 'string'
      ? value
          .split(',')
          .filter((s) => s !== '')
          .map(Number)
      : value;
  if (!Array.isArray(list) || !list.every((n) => Number.isSafeInteger(n) && (n as number) > 0)) return null;
  return list as number[];
}

function filterFrom(c: Context): DeadLetterFilter | Response {
  const filter: DeadLetterFilter = {};
  const integration = c.req.query('integration');
  if (integration) filter.integration = integration;
  const ids = parseIds(c.req.query('ids'));
  if (ids === null) return problem(c, 400, 'BAD_REQUEST', 'ids must be a comma-separated list of positive integers');
  if (ids) filter.ids = ids;
  return filter;
}

/**
 * Routes of the dead letters (mounted by the host under `/api`):
 * - `GET /dead-letters?integration&limit&offset` — oldest first, payload previews.
 * - `GET /dead-letters/:id` — one, with its whole payload.
 * - `POST /dead-letters/replay` `{integration?, ids?}` — through the current converters.
 * - `DELETE /dead-letters?integration&ids` — purge (everything when no filter).
 * - `DELETE /dead-letters/:id`.
 */
export function deadLetterRoutes(store: DeadLetterStore, replay: (filter: DeadLetterFilter) => Promise<ReplayReport>): Hono {
  const app = new Hono();
  let replaying = false;

  app.get('/dead-letters', (c) => {
    const filter = filterFrom(c);
    if (filter instanceof Response) return filter;
    const limit = intParam(c.req.query('limit'), 1000);
    const offset = intParam(c.req.query('offset'));
    if (limit === null || offset === null) return problem(c, 400, 'BAD_REQUEST', 'limit and offset must be non-negative integers');
    const page: DeadLetterPage = {
      total: store.count(filter),
      limit: limit ?? 50,
      offset: offset ?? 0,
      items: store.list({ ...filter, limit: limit ?? 50, offset: offset ?? 0 }).map((l) => viewDeadLetter(l, PREVIEW_BYTES)),
    };
    return c.json(page);
  });

  app.get('/dead-letters/:id{[0-9]+}', (c) => {
    const letter = store.get(Number(c.req.param('id')));
    if (!letter) return problem(c, 404, 'DEAD_LETTER_NOT_FOUND', `no dead letter ${c.req.param('id')}`);
    return c.json(viewDeadLetter(letter));
  });

  app.post('/dead-letters/replay', async (c) => {
    const text = await c.req.text();
    let body: { integration?: unknown; ids?: unknown } = {};
    try {
      if (text.trim() !== '') body = JSON.parse(text) as typeof body;
    } catch {
      return problem(c, 400, 'BAD_REQUEST', 'the body must be JSON: {"integration"?: string, "ids"?: number[]}');
    }
    const filter: DeadLetterFilter = {};
    if (body.integration !== undefined) {
      if (typeof body.integration !== 'string') return problem(c, 400, 'BAD_REQUEST', 'integration must be a string');
      filter.integration = body.integration;
    }
    const ids = parseIds(body.ids);
    if (ids === null || (body.ids !== undefined && !Array.isArray(body.ids))) {
      return problem(c, 400, 'BAD_REQUEST', 'ids must be an array of positive integers');
    }
    if (ids) filter.ids = ids;
    // Two replays of the same letters at once could store a message without sourceId twice.
    if (replaying) return problem(c, 409, 'REPLAY_IN_PROGRESS', 'a replay is already running; try again when it has finished');
    replaying = true;
    try {
      return c.json(await replay(filter));
    } finally {
      replaying = false;
    }
  });

  app.delete('/dead-letters', (c) => {
    const filter = filterFrom(c);
    if (filter instanceof Response) return filter;
    return c.json({ deleted: store.remove(filter) });
  });

  app.delete('/dead-letters/:id{[0-9]+}', (c) => {
    const deleted = store.remove({ ids: [Number(c.req.param('id'))] });
    if (deleted === 0) return problem(c, 404, 'DEAD_LETTER_NOT_FOUND', `no dead letter ${c.req.param('id')}`);
    return c.json({ deleted });
  });

  return app;
}
