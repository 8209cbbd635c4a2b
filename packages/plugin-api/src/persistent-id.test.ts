import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { persistentId } from './persistent-id.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-id-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('persistentId', () => {
  it('makes an id once and returns the same one on later starts', async () => {
    const dataDir = path.join(dir, 'integrations', 'a');
    const first = await persistentId({ dataDir, file: 'client-id', create: () => `tbi-a-${Math.random()}` });
    expect(first).toMatch(/^tbi-a-/);
    expect(await persistentId({ dataDir, file: 'client-id', create: () => 'other' })).toBe(first);
    expect((await readFile(path.join(dataDir, 'client-id'), 'utf8')).trim()).toBe(first);
    expect(await persistentId({ dataDir, file: 'second-id' })).toMatch(/^[0-9a-f]{16}$/);
  });

  it('replaces an empty file', async () => {
    await writeFile(path.join(dir, 'empty-id'), '\n');
    expect(await persistentId({ dataDir: dir, file: 'empty-id', create: () => 'fresh' })).toBe('fresh');
  });
});
