// What is specific to this connector, in process with the plugin kit (real sandbox, real
// embedded platform in a temp folder): replies, downlinks over the device's connection, limits.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTestIntegration, tbiBin, type TestIntegration } from '@tbi/plugin-testkit';
import { afterEach, describe, expect, it } from 'vitest';
import plugin from '../src/plugin.js';
import { connect, portOf, type LineClient } from './line-client.js';

let kit: TestIntegration | undefined;
const clients: LineClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await kit?.close();
  kit = undefined;
});

async function device(k: TestIntegration): Promise<LineClient> {
  const client = await connect(await portOf(k));
  clients.push(client);
  return client;
}

describe('tcp-line', () => {
  it('answers ok once a line is stored, error for a line the converter rejects or that is too long', async () => {
    kit = await startTestIntegration(plugin, { port: 0, maxLineBytes: 100 });
    const d = await device(kit);
    d.send(['{"device":"pump-1","values":{"rpm":1200}}', '{"reject":true}', `{"pad":"${'x'.repeat(200)}"}`]);
    await kit.waitFor(() => d.received.length === 3, 'three replies');
    expect([...d.received].sort()).toEqual(['error THREW', 'error TOO_LONG', 'ok']);
    expect(await kit.embedded!.latestTelemetry('pump-1')).toMatchObject({ rpm: { value: 1200 } });
    expect((await kit.deadLetters()).map((l) => l.kind).sort()).toEqual(['REJECTED', 'THREW']);
  });

  it('sends a downlink to the connection that carried the device, and fails at once for one not connected', async () => {
    kit = await startTestIntegration(plugin, { port: 0 });
    const d = await device(kit);
    d.send(['{"device":"valve-7","values":{"open":false}}']);
    await kit.waitFor(() => d.received.includes('ok'), 'the line is stored');
    expect(await kit.downlink({ deviceName: 'valve-7', msg: { open: true } })).toEqual({ ok: true });
    await kit.waitFor(() => d.received.includes('{"open":true}'), 'the device got the downlink');
    const started = Date.now();
    const missing = await kit.downlink({ deviceName: 'valve-8', msg: { open: true } });
    expect(missing).toMatchObject({ ok: false, error: expect.stringContaining('valve-8 is not connected') });
    expect(Date.now() - started).toBeLessThan(1000); // not retried: markRetryable(…, false)
  });

  it('is listed by `tbi plugins` once installed in a project', async () => {
    const project = await mkdtemp(path.join(tmpdir(), 'tbi-template-project-'));
    try {
      await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'p', private: true, dependencies: { 'tbi-plugin-tcp-line': '^0.1.0' } }));
      await mkdir(path.join(project, 'node_modules'));
      await symlink(path.resolve(import.meta.dirname, '..'), path.join(project, 'node_modules', 'tbi-plugin-tcp-line'), 'dir');
      const { stdout } = await promisify(execFile)(process.execPath, [tbiBin(), 'plugins', '--json'], { cwd: project });
      const list = JSON.parse(stdout) as { plugins: Array<{ package: string; type: string; compatible: boolean }> };
      expect(list.plugins).toContainEqual(expect.objectContaining({ package: 'tbi-plugin-tcp-line', type: 'tcp-line', compatible: true }));
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
});
