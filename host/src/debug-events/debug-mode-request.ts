import { DEBUG_MODES, type DebugMode } from './debug-ring.js';

/** Most events one ring may keep: each holds a payload view and logs, so this bounds memory. */
export const MAX_DEBUG_RING_SIZE = 10_000;
/** Longest `all` period (24 h). Also keeps `setTimeout` below its 2^31 ms limit, past which it fires at once. */
export const MAX_DEBUG_DURATION_MS = 86_400_000;

/** A validated `PUT /integrations/:name/debug` body. */
export interface DebugModeRequest {
  mode: DebugMode;
  size?: number | undefined;
  durationMs?: number | undefined;
}

const FIELDS = new Set(['mode', 'size', 'durationMs']);

/**
 * Checks the body of `PUT …/debug`: a known mode, and `size` / `durationMs` as integers within
 * their bounds. Returns the request, or the message of a 400 naming the field and its range.
 *
 * @example
 * parseDebugModeRequest({ mode: 'all', size: 1e9 }); // { error: 'size must be an integer from 1 to 10000, got 1000000000' }
 */
export function parseDebugModeRequest(body: unknown): DebugModeRequest | { error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { error: 'body must be a JSON object {"mode": "off" | "all" | "failures", "size"?, "durationMs"?}' };
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) return { error: `unknown field ${unknown.map((k) => `"${k}"`).join(', ')}: allowed are mode, size, durationMs` };
  const { mode, size, durationMs } = fields;
  if (typeof mode !== 'string' || !DEBUG_MODES.includes(mode as DebugMode)) {
    return { error: `mode must be "off", "all" or "failures", got ${shown(mode)}` };
  }
  const sizeError = rangeError('size', size, MAX_DEBUG_RING_SIZE);
  if (sizeError) return { error: sizeError };
  const durationError = rangeError('durationMs', durationMs, MAX_DEBUG_DURATION_MS);
  if (durationError) return { error: durationError };
  return { mode: mode as DebugMode, size: size as number | undefined, durationMs: durationMs as number | undefined };
}

function rangeError(name: string, value: unknown, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max) return undefined;
  return `${name} must be an integer from 1 to ${max}, got ${shown(value)}`;
}

function shown(value: unknown): string {
  const text = value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
