// Memory is bounded whatever the broker does: a real `tbi start` process (built host + this
// plugin's dist, real converter sandbox, embedded SQLite) drains a backlog far larger than its
// pipeline limit (10,000 in flight) from the shared real Mosquitto 2.0, which does not hold the
// client's receive maximum when acknowledgements come in batches. The connector has to stop
// reading the socket when the pipeline is full, without tripping the keepalive.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { drainMemory, eventually, startHostProcess, storedTelemetry, type HostProcess } from '@tbi/plugin-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishMany, SHARED_PORTS, testClient } from './broker.js';
import { uniquePrefix } from './harness.js';

const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');
const TOKEN = 'memory-control-token-0123456789';
const BACKLOG = 400_000;
/**
 * Before the read side was paused, this host held what the broker sent and reached 835 MB on this
 * backlog (575 MB at half of it). With it, about 430 MB, reached by half of the drain and then
 * flat: what remains is the pipeline's and the embedded store's working set (V8 heaps of the
 * host and its writer thread, SQLite's page cache), not messages. Since `tbi` runs with 4 MiB
 * semi-spaces, 276–296 MB (host/README.md, "Memory and stalls: what bounds them").
 */
const RSS_LIMIT_MB = 384;
/** Most the peak may still rise over the second half of the drain (it rose by 260 MB before). */
const SECOND_HALF_GROWTH_MB = 100;
const TS0 = 1_700_000_000_000;
const UPLINK = `
  var data = decodeToJson(payload);
  return { deviceName: 'meter', deviceType: 'memory', telemetry: { ts: ${TS0} + data.seq, values: { seq: data.seq } } };
`;

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-mqtt-memory-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function startHost(prefix: string): Promise<HostProcess> {
  return startHostProcess({
    dir,
    token: TOKEN,
    config: {
      http: { host: '127.0.0.1', port: 0 },
      auth: { token: TOKEN },
      dataDir: path.join(dir, 'data'),
      plugins: [PLUGIN_DIR],
      log: { level: 'info' },
      integrations: [
        {
          name: 'backlog',
          type: 'mqtt',
          config: {
            host: '127.0.0.1',
            port: SHARED_PORTS.plain,
            protocolVersion: '5',
            topicFilters: [{ filter: `${prefix}/data`, qos: 1 }],
            // Short, so that a read side held for long without the keepalive guard would trip it.
            keepaliveSec: 2,
          },
          uplinkConverter: { inline: UPLINK },
          debug: { mode: 'off' },
        },
      ],
    },
  });
}

describe('a QoS 1 backlog far larger than the pipeline', () => {
  it(`drains ${BACKLOG.toLocaleString('en')} messages with resident memory under ${RSS_LIMIT_MB} MB, none lost, no reconnection`, async () => {
    const prefix = uniquePrefix('memory');
    // The first run creates the persistent session and its subscription, then goes offline.
    const first = await startHost(prefix);
    await eventually(async () => (await first.api('/integrations/backlog')).body?.health?.status === 'up', 30_000);
    expect(await first.stop()).toBe(0);
    const pub = await testClient({ clientId: `memory-pub-${Math.random().toString(16).slice(2, 10)}` });
    await publishMany(pub, `${prefix}/data`, BACKLOG, { payload: (i) => JSON.stringify({ seq: i, pad: 'x'.repeat(64) }) });
    await pub.endAsync();

    const host = await startHost(prefix);
    try {
      const drain = await drainMemory(host.child.pid!, () => host.metric('tbi_mqtt_messages_acked_total'), BACKLOG);
      expect(drain.drained).toBe(true);
      expect(drain.samples.length).toBeGreaterThan(10); // sampled during the drain, not only around it
      expect(drain.peakMb).toBeLessThan(RSS_LIMIT_MB);
      expect(drain.firstHalfPeakMb).toBeGreaterThan(0);
      expect(drain.peakMb - drain.firstHalfPeakMb).toBeLessThan(SECOND_HALF_GROWTH_MB);
      // The pipeline filled and the connector stopped reading, yet the connection stayed up.
      expect(await host.metric('tbi_mqtt_reads_blocked_total')).toBeGreaterThan(0);
      expect(await host.metric('tbi_mqtt_reconnect_attempts_total')).toBe(0);
      expect(host.logs.some((l) => l.includes('lost the connection to the MQTT broker'))).toBe(false);
      const seqs = storedTelemetry(path.join(dir, 'data'), 'seq', { name: 'meter' });
      expect(new Set(seqs).size).toBe(BACKLOG);
    } finally {
      await host.stop();
    }
  }, 600_000);
});
