// `tbi replay` end to end: a real `tbi start` process (built host + this plugin's dist) replays a
// range of a real RabbitMQ stream through a changed converter, over the control API. Needs
// `pnpm build` first (scripts/test.sh does it).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { apiTelemetryValues, startHostProcess, storedTelemetry, tbiBin, tbiNodeFlags, type HostProcess } from '@tbi/plugin-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMQP_PORT, brokerScript, deleteQueues, numbered, PLUGIN_DIR, publish, unique, waitFor, withHostLogs } from './harness.js';

const TOKEN = 'rabbitmq-replay-token-0123456789';
// One row per message at ts BASE + n s, so a replayed message overwrites its own row; the value
// tells which converter wrote it.
const converter = (factor: number) => `
  var data = decodeToJson(payload);
  return { deviceName: data.p + '-' + (data.n % 10), deviceType: 'amqp-replay', telemetry: { ts: 1700000000000 + data.n * 1000, values: { n: data.n * ${factor} } } };
`;

let dir = '';
const hosts: HostProcess[] = [];
beforeAll(async () => {
  await brokerScript('start');
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-rabbitmq-replay-'));
}, 240_000);
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
}, 60_000);

describe('tbi replay of a RabbitMQ stream in a real host', { timeout: 180_000 }, () => {
  it('replays offsets 100-199 of a stream through the changed converter: rewritten once each, the rest untouched', async () => {
    const p = unique('rp');
    const stream = `${p}-stream`;
    const dataDir = path.join(dir, 'replay');
    const integration = {
      name: 'scada',
      type: 'rabbitmq',
      config: {
        host: '127.0.0.1',
        port: AMQP_PORT,
        username: 'tbi',
        password: 'tbi-secret',
        uplink: { queues: [stream], prefetch: 50 },
        topology: { queues: [{ name: stream, arguments: { 'x-queue-type': 'stream' } }] },
      },
      uplinkConverter: { inline: converter(1) },
    };
    const host = await startHostProcess({
      dir: await mkdtemp(path.join(dir, 'host-')),
      token: TOKEN,
      config: { http: {}, auth: { token: TOKEN }, dataDir, plugins: [PLUGIN_DIR], log: { level: 'info' }, integrations: [integration] },
    });
    hosts.push(host);
    await withHostLogs(hosts, () => waitFor(async () => (await host.api('/integrations/scada')).body.health?.status === 'up', 30_000, 'up'));
    await publish('', stream, numbered(p, 300));
    const values = () => storedTelemetry(dataDir, 'n', { prefix: `${p}-` });
    await withHostLogs(hosts, () => waitFor(() => values().length === 300, 60_000, '300 rows stored live'));

    const applied = await host.api('/integrations/scada/converters/uplink', { method: 'PUT', body: JSON.stringify({ source: converter(10) }) });
    expect(applied.status).toBe(200);
    const started = await host.api('/integrations/scada/replays', { method: 'POST', body: JSON.stringify({ from: '100', to: '200' }) });
    expect(started.status).toBe(202);
    await withHostLogs(hosts, () => waitFor(async () => (await host.api(`/replays/${started.body.id}`)).body.state === 'done', 60_000, 'replay done'));
    const { body: replay } = await host.api(`/replays/${started.body.id}`);
    expect(replay).toMatchObject({ integration: 'scada', state: 'done', read: 100, stored: 100, failed: 0, from: { offset: '100' }, to: { offset: '200' } });
    expect(replay.position).toEqual(expect.any(String));

    // Read through the platform's API (a replayed value and the one it replaces sit in two
    // tables until the store merges them; reads show one value per timestamp).
    const stored = await apiTelemetryValues(
      host,
      Array.from({ length: 10 }, (_, d) => `${p}-${d}`),
      'n',
    );
    const expected = Array.from({ length: 300 }, (_, n) => (n >= 100 && n < 200 ? n * 10 : n)).sort((a, b) => a - b);
    expect(stored).toEqual(expected);

    // The replay is listed; a replay of an integration that does not exist is refused clearly.
    const { body: list } = await host.api('/replays');
    expect(list.replays.map((r: { id: number }) => r.id)).toContain(started.body.id);
    const missing = await host.api('/integrations/nope/replays', { method: 'POST', body: JSON.stringify({ from: '0' }) });
    expect(missing).toMatchObject({ status: 404, body: { code: 'REPLAY_UNKNOWN_INTEGRATION' } });
    const bad = await host.api('/integrations/scada/replays', { method: 'POST', body: JSON.stringify({ from: '' }) });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^from: expected/);

    // The same through the CLI: `tbi replay` starts it, follows it and exits 0 once it is done.
    const cli = await promisify(execFile)(
      process.execPath,
      [...tbiNodeFlags(), tbiBin(), 'replay', 'scada', '--from', '0', '--to', '50', '--url', host.url, '--token', TOKEN],
      { timeout: 60_000 },
    );
    expect(cli.stdout).toMatch(/^Started replay \d+ of scada\.\n/);
    expect(cli.stdout).toMatch(/replay \d+ of scada: done, 50 read, 50 stored, 0 failed/);
    await deleteQueues(stream);
  });
});
