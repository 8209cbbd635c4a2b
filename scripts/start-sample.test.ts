import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, runScript } from './test/run-script.js';
import { stubPnpm } from './test/stub-pnpm.js';

// The real sample host (built host and HTTP plugin); only pnpm is a stand-in, so the test does
// not rebuild the workspace under the other test files.
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startSample(args: string[], env: NodeJS.ProcessEnv) {
  const stub = await stubPnpm();
  cleanups.push(() => rm(stub.dir, { recursive: true, force: true }));
  const child = spawn(path.join(ROOT, 'scripts/start-sample.sh'), args, {
    cwd: ROOT,
    env: { ...process.env, ...stub.env, TBI_TOKEN: 'sample-test-token-0123456789', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  child.stdout.resume();
  const exited = new Promise((resolve) => child.on('close', resolve));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  return { child, stderr: () => stderr };
}

async function healthy(port: number, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe('scripts/start-sample.sh', () => {
  it('shows the port given with --port in its banner, and the host listens there', async () => {
    const port = await freePort();
    const sample = await startSample(['--port', String(port)], {});
    expect(await healthy(port)).toBe(true);
    expect(sample.stderr()).toContain(`tbi sample: http://127.0.0.1:${port}   (Ctrl-C stops it)`);
    expect(sample.stderr()).toContain(`curl -X POST http://127.0.0.1:${port}/api/v1/integrations/http/sample`);
    expect(sample.stderr()).not.toContain(':8080');
  }, 60_000);

  it('takes the port from TBI_PORT', async () => {
    const port = await freePort();
    const sample = await startSample([], { TBI_PORT: String(port) });
    expect(await healthy(port)).toBe(true);
    expect(sample.stderr()).toContain(`tbi sample: http://127.0.0.1:${port} `);
  }, 60_000);

  it('says so when the port is taken, instead of a banner for a host that cannot start', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as AddressInfo;
    const stub = await stubPnpm();
    cleanups.push(() => rm(stub.dir, { recursive: true, force: true }));
    const r = await runScript('scripts/start-sample.sh', ['--port', String(port)], stub.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`start-sample: port ${port} is in use; choose another with --port N or TBI_PORT=N`);
    expect(r.stderr).not.toContain('tbi sample:');
  });
});
