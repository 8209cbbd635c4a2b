import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { openReplayCheckpoint } from './replay-checkpoint.js';

describe('openReplayCheckpoint', () => {
  it('opens a JSON object and refuses anything else with what was expected, why and the text', () => {
    expect(openReplayCheckpoint('{"next":4}', 'x').value).toEqual({ next: 4 });
    for (const [text, why] of [
      ['nope', 'not JSON'],
      ['[1]', 'not an object'],
      ['null', 'not an object'],
    ] as const) {
      expect(() => openReplayCheckpoint(text, 'a checkpoint of a test replay')).toThrow(
        `replay.resume: expected a checkpoint of a test replay (${why}), received ${JSON.stringify(text)}`,
      );
    }
  });

  it("gives a `bad` for the connector's own checks, and cuts long text", () => {
    const { bad } = openReplayCheckpoint(JSON.stringify({ pad: 'x'.repeat(300) }), 'a checkpoint');
    let error: unknown;
    try {
      bad('"next" is missing');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe('replay.resume');
    expect((error as Error).message).toContain('expected a checkpoint ("next" is missing), received "{\\"pad\\":\\"xxx');
    expect((error as Error).message).toMatch(/x…"$/);
  });
});
