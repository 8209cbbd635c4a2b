import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHost, type HostHandle } from '../host.js';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import { FIXTURES } from '../../test/helpers/packed-project.js';

const TOKEN = 'detail-routes-token-0123456789';
const GOOD = 'return { deviceName: "a", telemetry: { t: 1 } };';
const BETTER = 'return { deviceName: "b", telemetry: { t: 2 } };';

let host: HostHandle | undefined;
afterEach(async () => {
  await host?.stop();
  host = undefined;
});

async function start(integration: Record<string, unknown> | ((dir: string) => Record<string, unknown>)): Promise<{ host: HostHandle; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tbi-detail-'));
  await writeFile(path.join(dir, 'up.js'), GOOD);
  host = await startHost({
    baseDir: FIXTURES,
    port: 0,
    host: '127.0.0.1',
    logger: memoryLogger().logger,
    env: { ECHO_SECRET: 'from-the-environment' },
    config: {
      auth: { token: TOKEN },
      dataDir: path.join(dir, 'data'),
      plugins: ['./echo'],
      integrations: [{ name: 'one', type: 'echo', config: { key: 'one' }, ...(typeof integration === 'function' ? integration(dir) : integration) }],
    },
  });
  return { host, dir };
}

const call = (h: HostHandle, p: string, init: RequestInit = {}) =>
  h.app.request(`/api${p}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers } });

describe('integration detail routes', () => {
  it('shows the config with secrets from the environment and secret-named keys masked', async () => {
    const { host } = await start({ config: { key: 'one', apiKey: 'literal-key-in-file', note: '${env:ECHO_SECRET}' }, uplinkConverter: { inline: GOOD } });
    const res = await call(host, '/integrations/one/config');
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain('literal-key-in-file');
    expect(text).not.toContain('from-the-environment');
    expect(JSON.parse(text)).toMatchObject({ name: 'one', config: { apiKey: '[redacted]', note: '[redacted]' } });
  });

  it('applies a source to a file converter atomically and writes it back; a broken source changes nothing', async () => {
    const { host, dir } = await start((d) => ({ uplinkConverter: { file: path.join(d, 'up.js') } }));
    const before = (await (await call(host, '/integrations/one/converters')).json()) as { uplink: { source: string; writesBack: boolean; version: number } };
    expect(before.uplink).toMatchObject({ source: GOOD, writesBack: true, version: 1 });

    const broken = await call(host, '/integrations/one/converters/uplink', { method: 'PUT', body: JSON.stringify({ source: 'return {' }) });
    expect(broken.status).toBe(422);
    expect(await readFile(path.join(dir, 'up.js'), 'utf8')).toBe(GOOD);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const applied = await call(host, '/integrations/one/converters/uplink', { method: 'PUT', body: JSON.stringify({ source: BETTER }) });
    expect(applied.status).toBe(200);
    expect(await applied.json()).toMatchObject({ applied: 'replaced', file: path.join(dir, 'up.js'), status: { state: 'running' } });
    expect(await readFile(path.join(dir, 'up.js'), 'utf8')).toBe(BETTER);
    const after = (await (await call(host, '/integrations/one/converters')).json()) as { uplink: { source: string; version: number } };
    expect(after.uplink).toMatchObject({ source: BETTER, version: 2 });
  });

  it('keeps an applied inline source across a restart, and refuses a converter the integration does not have', async () => {
    const { host } = await start({ uplinkConverter: { inline: GOOD } });
    expect((await call(host, '/integrations/one/converters/uplink', { method: 'PUT', body: JSON.stringify({ source: BETTER }) })).status).toBe(200);
    expect((await call(host, '/integrations/one/restart', { method: 'POST' })).status).toBe(200);
    const sources = (await (await call(host, '/integrations/one/converters')).json()) as { uplink: { source: string; writesBack: boolean } };
    expect(sources.uplink).toMatchObject({ source: BETTER, writesBack: false });
    const none = await call(host, '/integrations/one/converters/downlink', { method: 'PUT', body: JSON.stringify({ source: GOOD }) });
    expect(none.status).toBe(404);
    expect((await call(host, '/integrations/nope/converters')).status).toBe(404);
  });
});
