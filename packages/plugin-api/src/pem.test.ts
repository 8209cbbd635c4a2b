import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { loadPem } from './pem.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-pem-'));
  await writeFile(path.join(dir, 'ca.pem'), PEM);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('loadPem', () => {
  it('keeps PEM text and reads a path relative to configDir, not the cwd', async () => {
    expect((await loadPem(PEM, { configDir: '/nowhere', path: 'config.tls.ca' })).toString()).toBe(PEM);
    expect((await loadPem('ca.pem', { configDir: dir, path: 'config.tls.ca' })).toString()).toBe(PEM);
    expect((await loadPem(path.join(dir, 'ca.pem'), { configDir: '/nowhere', path: 'config.tls.ca' })).toString()).toBe(PEM);
  });

  it('names the setting and the resolved file when it cannot be read', async () => {
    const error = await loadPem('missing.pem', { configDir: dir, path: 'config.ssl.key' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe('config.ssl.key');
    expect((error as Error).message).toContain(path.join(dir, 'missing.pem'));
  });
});
