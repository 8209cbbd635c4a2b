import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The JSON body of every error answer of the pipeline's routes (the host's shape, plus a code). */
export interface ProblemBody {
  error: string;
  code: string;
}

/** Answers with `{ error: message, code }` and the status. */
export function problem(c: Context, status: ContentfulStatusCode, code: string, message: string): Response {
  return c.json({ error: message, code } satisfies ProblemBody, status);
}

/** Parses an optional non-negative integer query value; `undefined` when absent, `null` when invalid. */
export function intParam(value: string | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined | null {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) return null;
  const n = Number(value);
  return Math.min(n, max);
}
