import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveRoutingKey } from './routing-key.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('resolveRoutingKey', () => {
  it('uses the configured key', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rk-'));
    expect(await resolveRoutingKey('my-key', dir)).toEqual({ key: 'my-key', source: 'config' });
  });

  it('generates a UUID once, stores it, and reuses it on the next start', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rk-'));
    const data = path.join(dir, 'nested', 'data');
    const first = await resolveRoutingKey(undefined, data);
    expect(first.source).toBe('generated');
    expect(first.key).toMatch(/^[0-9a-f-]{36}$/);
    expect((await readFile(path.join(data, 'routing-key'), 'utf8')).trim()).toBe(first.key);
    expect(await resolveRoutingKey(undefined, data)).toEqual({ key: first.key, source: 'stored' });
  });
});
