// `tbi replay` of Pulsar end to end: a real `tbi start` process (built host + this plugin's dist)
// replays a publish-time range of a real Pulsar topic through a changed converter, over the
// control API and the CLI. Needs `pnpm build` first (scripts/test.sh does it).
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { apiTelemetryValues, startHostProcess, tbiBin, tbiNodeFlags, withHostLogs, type HostProcess } from '@tbi/plugin-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instance, numbered, PLUGIN_DIR, produce, SHARED, storedRows, topicOf, unique, waitFor } from './harness.js';

const TOKEN = 'pulsar-replay-host-token-0123456789';
const shared = instance();
// One row per message at ts BASE + n s, so a replayed message overwrites its own row; the value
// tells which converter wrote it.
const converter = (factor: number) => `
  var data = decodeToJson(payload);
  return { deviceName: data.p + '-' + (data.n % 10), deviceType: 'pulsar-replay', telemetry: { ts: 1700000000000 + data.n * 1000, values: { n: data.n * ${factor} } } };
`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir = '';
const hosts: HostProcess[] = [];
beforeAll(async () => {
  await shared.start();
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-pulsar-replay-'));
}, 300_000);
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
}, 60_000);

describe('tbi replay of Pulsar in a real host', { timeout: 180_000 }, () => {
  it('replays the middle band of publish times through the changed converter: rewritten once each, the rest untouched; the CLI follows a replay to its end', async () => {
    const p = unique('prp');
    const topic = topicOf(p);
    const dataDir = path.join(dir, 'data');
    const integration = {
      name: 'plant',
      type: 'pulsar',
      config: { webServiceUrl: SHARED.webServiceUrl, uplink: { topics: [topic], subscriptionName: 'live', initialPosition: 'Earliest' } },
      uplinkConverter: { inline: converter(1) },
    };
    const host = await startHostProcess({
      dir: await mkdtemp(path.join(dir, 'host-')),
      token: TOKEN,
      config: { http: {}, auth: { token: TOKEN }, dataDir, plugins: [PLUGIN_DIR], log: { level: 'info' }, integrations: [integration] },
    });
    hosts.push(host);
    await withHostLogs(hosts, () => waitFor(async () => (await host.api('/integrations/plant')).body.health?.status === 'up', 30_000, 'up'));
    // Three bands of 100 messages, their publish times apart.
    const starts: number[] = [];
    for (let band = 0; band < 3; band++) {
      await sleep(300);
      starts.push(Date.now());
      await produce(topic, numbered(p, 100, band * 100));
    }
    await withHostLogs(hosts, () => waitFor(() => storedRows(dataDir, `${p}-`) === 300, 60_000, '300 rows stored live'));

    const applied = await host.api('/integrations/plant/converters/uplink', { method: 'PUT', body: JSON.stringify({ source: converter(10) }) });
    expect(applied.status).toBe(200);
    const range = { from: new Date(starts[1]!).toISOString(), to: new Date(starts[2]!).toISOString() };
    const started = await host.api('/integrations/plant/replays', { method: 'POST', body: JSON.stringify(range) });
    expect(started.status).toBe(202);
    await withHostLogs(hosts, () => waitFor(async () => (await host.api(`/replays/${started.body.id}`)).body.state === 'done', 60_000, 'replay done'));
    const { body: replay } = await host.api(`/replays/${started.body.id}`);
    expect(replay).toMatchObject({ integration: 'plant', state: 'done', read: 100, stored: 100, failed: 0 });
    expect(replay.position).toMatch(/^topic ".*" at \d+:\d+/);

    const values = () =>
      apiTelemetryValues(
        host,
        Array.from({ length: 10 }, (_, d) => `${p}-${d}`),
        'n',
      );
    const times = (n: number, upTo: number) => (n >= 100 && n < upTo ? n * 10 : n);
    expect(await values()).toEqual(Array.from({ length: 300 }, (_, n) => times(n, 200)).sort((a, b) => a - b));

    // The CLI: from band c's first publish time to the end as of now, followed until it is done.
    const cli = await promisify(execFile)(
      process.execPath,
      [...tbiNodeFlags(), tbiBin(), 'replay', 'plant', '--from', new Date(starts[2]!).toISOString(), '--url', host.url, '--token', TOKEN],
      { timeout: 60_000 },
    );
    expect(cli.stdout).toMatch(/^Started replay \d+ of plant\.\n/);
    expect(cli.stdout).toMatch(/replay \d+ of plant: done, 100 read, 100 stored, 0 failed/);
    expect(await values()).toEqual(Array.from({ length: 300 }, (_, n) => times(n, 300)).sort((a, b) => a - b));
  });
});
