import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTbiError } from '@tbi/plugin-api';
import { describe, expect, it } from 'vitest';
import { pulsarConfigSchema } from './config.js';
import { currentToken } from './token.js';

const config = (extra: Record<string, unknown>) => pulsarConfigSchema.parse({ webServiceUrl: 'http://127.0.0.1:1', ...extra });

describe('currentToken', () => {
  it('reads tokenFile anew on every call, so a rotated token is used at the next reconnect', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tbi-pulsar-token-'));
    writeFileSync(path.join(dir, 'jwt'), 'first\n');
    const c = config({ tokenFile: 'jwt' });
    expect(currentToken(c, dir)).toBe('first');
    writeFileSync(path.join(dir, 'jwt'), 'rotated\n');
    expect(currentToken(c, dir)).toBe('rotated');
  });

  it('reads tokenEnv anew too, and names an unset variable', () => {
    const c = config({ tokenEnv: 'TBI_PULSAR_TEST_TOKEN' });
    process.env.TBI_PULSAR_TEST_TOKEN = 'a';
    expect(currentToken(c, '/')).toBe('a');
    process.env.TBI_PULSAR_TEST_TOKEN = 'b';
    expect(currentToken(c, '/')).toBe('b');
    delete process.env.TBI_PULSAR_TEST_TOKEN;
    let error: unknown;
    try {
      currentToken(c, '/');
    } catch (e) {
      error = e;
    }
    expect(isTbiError(error)).toBe(true);
    expect((error as Error).message).toMatch(/TBI_PULSAR_TEST_TOKEN/);
  });
});
