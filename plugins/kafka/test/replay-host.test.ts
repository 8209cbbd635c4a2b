// `tbi replay` of Kafka end to end: a real `tbi start` process (built host + this plugin's dist),
// the real sandbox and embedded platform and a real broker. 140,000 records in three bands of
// record time; the middle band (100,000) is replayed by time through a changed converter, then
// the live group is wound back to re-deliver everything, which must all be recognised as stored.
// Needs `pnpm build` first (scripts/test.sh does it).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Admin } from '@platformatic/kafka';
import { apiTelemetryValues, startHostProcess, storedTelemetry, withHostLogs, type HostProcess } from '@tbi/plugin-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedOffsets, createTopic, ensureBroker, PLAINTEXT, produceBand, unique, waitFor } from './harness.js';

const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');
const TOKEN = 'kafka-replay-host-token-0123456';
const DEVICES = 50;
// Each message {"n": n} is one value `v` of device `dev-<n % 50>` at ts BASE + n: the ts tells
// which message a stored row came from, the value which converter wrote it.
const BASE = 1_700_000_000_000;
const converter = (factor: number) => `
  var data = decodeToJson(payload);
  return { deviceName: 'dev-' + (data.n % ${DEVICES}), deviceType: 'meter', telemetry: { ts: ${BASE} + data.n, values: { v: data.n * ${factor} } } };
`;
const BANDS = { a: [0, 20_000], b: [20_000, 100_000], c: [120_000, 20_000] } as const;
const TOTAL = 140_000;

let dir = '';
const hosts: HostProcess[] = [];
beforeAll(async () => {
  await ensureBroker();
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-kafka-replay-host-'));
}, 240_000);
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
}, 60_000);

async function startHost(dataDir: string, integration: Record<string, unknown>): Promise<HostProcess> {
  const host = await startHostProcess({
    dir: await mkdtemp(path.join(dir, 'host-')),
    token: TOKEN,
    config: { http: {}, auth: { token: TOKEN }, dataDir, plugins: [PLUGIN_DIR], log: { level: 'info' }, integrations: [integration] },
  });
  hosts.push(host);
  return host;
}

const DEVICE_NAMES = Array.from({ length: DEVICES }, (_, d) => `dev-${d}`);
const sum = (list: readonly bigint[]) => list.reduce((s, o) => s + o, 0n);

describe('tbi replay of Kafka in a real host', { timeout: 600_000 }, () => {
  it('replays 100,000 records by time range through a changed converter: each value rewritten exactly once, the rest untouched, live de-duplication intact', async () => {
    const topic = unique('replay-in');
    const groupId = unique('replay-live');
    await createTopic(topic, 3);
    const dataDir = path.join(dir, 'data');
    const integration = (factor: number) => ({
      name: 'in',
      type: 'kafka',
      config: { bootstrapServers: PLAINTEXT, uplink: { topics: [topic], groupId } },
      uplinkConverter: { inline: converter(factor) },
    });
    let host = await startHost(dataDir, integration(1));
    // Record times an hour ago, a minute apart per band: the time range names band b exactly.
    const t0 = Date.now() - 3_600_000;
    const times = { a: t0, b: t0 + 60_000, c: t0 + 120_000 };
    for (const band of ['a', 'b', 'c'] as const) await produceBand(topic, BANDS[band][0], BANDS[band][1], times[band], [PLAINTEXT], DEVICES);
    await withHostLogs(hosts, () => waitFor(() => storedTelemetry(dataDir, 'v', { prefix: 'dev-' }).length === TOTAL, 180_000, `${TOTAL} rows stored live`));
    await withHostLogs(hosts, () => waitFor(async () => sum(await committedOffsets(groupId, topic, 3)) === BigInt(TOTAL), 60_000, 'the live group committed'));

    const applied = await host.api('/integrations/in/converters/uplink', { method: 'PUT', body: JSON.stringify({ source: converter(10) }) });
    expect(applied.status).toBe(200);
    const from = new Date(times.b).toISOString();
    const to = new Date(times.c).toISOString();
    const started = await host.api('/integrations/in/replays', { method: 'POST', body: JSON.stringify({ from, to }) });
    expect(started.status).toBe(202);
    await withHostLogs(hosts, () => waitFor(async () => (await host.api(`/replays/${started.body.id}`)).body.state === 'done', 300_000, 'replay done'));
    const { body: replay } = await host.api(`/replays/${started.body.id}`);
    expect(replay).toMatchObject({ integration: 'in', state: 'done', read: 100_000, stored: 100_000, failed: 0 });
    expect(replay.position).toMatch(/^100000 of 100000 records; /);

    const inB = (n: number) => n >= BANDS.b[0] && n < BANDS.b[0] + BANDS.b[1];
    const expected = Array.from({ length: TOTAL }, (_, n) => (inB(n) ? n * 10 : n)).sort((x, y) => x - y);
    expect(await apiTelemetryValues(host, DEVICE_NAMES, 'v')).toEqual(expected);
    // The replay read beside the live group, which stands where it stood.
    expect(sum(await committedOffsets(groupId, topic, 3))).toBe(BigInt(TOTAL));

    // Live redelivery afterwards: wind the live group back to 0 while the host is down and start
    // it with yet another converter (×7). Every record is one the platform stored, so nothing changes.
    await host.stop();
    const admin = new Admin({ clientId: 'test-rewind', bootstrapBrokers: [PLAINTEXT] });
    try {
      await admin.alterConsumerGroupOffsets({
        groupId,
        topics: [{ name: topic, partitionOffsets: [0, 1, 2].map((partition) => ({ partition, offset: 0n })) }],
      });
    } finally {
      await admin.close();
    }
    expect(sum(await committedOffsets(groupId, topic, 3))).toBe(0n);
    host = await startHost(dataDir, integration(7));
    await withHostLogs(hosts, () =>
      waitFor(async () => sum(await committedOffsets(groupId, topic, 3)) === BigInt(TOTAL), 180_000, 'the live group re-consumed everything'),
    );
    expect(await apiTelemetryValues(host, DEVICE_NAMES, 'v')).toEqual(expected);
  });
});
