import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startHost } from '../host.js';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import { main } from './main.js';

const run = promisify(execFile);

describe('hostClient', () => {
  it('says how to trust a host whose TLS certificate is self-signed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-client-tls-'));
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
      let err = '';
      const code = await main(['node', 'tbi', 'status', '--url', host.url, '--interval', '0'], { out: () => {}, err: (t) => (err += t) });
      expect(code).toBe(2);
      expect(err).toContain(`the host at ${host.url} presents a certificate this client does not trust (DEPTH_ZERO_SELF_SIGNED_CERT)`);
      expect(err).toContain('NODE_EXTRA_CA_CERTS');
    } finally {
      await host.stop();
    }
  });
});
