import { ConfigError } from './errors.js';

/**
 * Opens a `ReplayRequest.resume` that a connector wrote as a JSON object (since 1.3): returns the
 * object and `bad(why)`, which throws the `ConfigError` for this checkpoint (path `replay.resume`,
 * what was expected and why, the text cut to 200 characters), for the connector's own checks.
 * Text that is not a JSON object is refused the same way.
 *
 * @example
 * const { value, bad } = openReplayCheckpoint(text, 'a checkpoint of a kafka replay, JSON {"partitions": […]}');
 * if (!Array.isArray(value.partitions)) bad('"partitions" must be a list');
 */
export function openReplayCheckpoint(text: string, expected: string): { value: Record<string, unknown>; bad: (why: string) => never } {
  const bad = (why: string): never => {
    throw new ConfigError({
      path: 'replay.resume',
      expected: `${expected} (${why})`,
      received: JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text),
    });
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('not an object');
  return { value: value as Record<string, unknown>, bad };
}
