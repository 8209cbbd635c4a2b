import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startHost } from '../src/index.js';
import { memoryLogger } from './helpers/memory-logger.js';

const run = promisify(execFile);

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  it('serves HTTPS when http.tls names a certificate and key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-tls-'));
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', 'key.pem', '-out', 'cert.pem'], {
      cwd: dir,
    });
    const host = await startHost({
      config: { http: { host: '127.0.0.1', port: 0, tls: { cert: 'cert.pem', key: 'key.pem' } }, dataDir: path.join(dir, 'data') },
      baseDir: dir,
      env: {},
      logger: memoryLogger().logger,
    });
    try {
      expect(host.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await get(`${host.url}/healthz`)).toEqual({ status: 200, body: '{"status":"ok"}' });
    } finally {
      await host.stop();
    }
  });

  it('names the unreadable file as a config error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-tls-'));
    const error = await startHost({
      config: { http: { host: '127.0.0.1', port: 0, tls: { cert: 'missing.pem', key: 'key.pem' } }, dataDir: path.join(dir, 'data') },
      baseDir: dir,
      env: {},
      logger: memoryLogger().logger,
    }).then(
      () => new Error('the host started'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toMatch(/^http\.tls\.cert: expected a readable PEM file \(.*missing\.pem: ENOENT/);
  });
});
