import { ConfigError, type ReplayPoint } from '@tbi/plugin-api';

// An ISO 8601 date or date-time (`2026-12-01`, `2026-12-01T10:00:00Z`, with an offset or not).
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Reads `--from` / `--to` as a user writes them: an ISO 8601 time (`2026-12-01T10:00:00Z`) is a
 * time, anything else is an offset in the connector's own notation (`1200`, `0:1200,1:900`, a
 * Pulsar message id), which the connector checks. Also takes the API's `{time}` / `{offset}`.
 */
export function parseReplayPoint(value: unknown, name: 'from' | 'to'): ReplayPoint {
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') throw new ConfigError({ path: name, expected: 'an ISO 8601 time or an offset', received: 'an empty string' });
    if (ISO_TIME.test(text)) return { time: isoTime(text, name) };
    return { offset: text };
  }
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    if (typeof v.time === 'number' && Number.isSafeInteger(v.time) && v.time >= 0 && Object.keys(v).length === 1) return { time: v.time };
    if (typeof v.time === 'string' && Object.keys(v).length === 1) return { time: isoTime(v.time, name) };
    if (typeof v.offset === 'string' && v.offset.trim() !== '' && Object.keys(v).length === 1) return { offset: v.offset.trim() };
  }
  throw new ConfigError({
    path: name,
    expected: 'an ISO 8601 time ("2026-12-01T10:00:00Z"), an offset ("1200"), {"time": <epoch ms>} or {"offset": "..."}',
    received: JSON.stringify(value),
  });
}

function isoTime(text: string, name: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ConfigError({ path: name, expected: 'a valid ISO 8601 time', received: `"${text}"` });
  return ms;
}

/** A point for people: the ISO time, or the offset as given. */
export function describePoint(point: ReplayPoint): string {
  return 'time' in point ? new Date(point.time).toISOString() : `offset ${point.offset}`;
}
