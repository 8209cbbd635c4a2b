// Memory is bounded while a real `tbi start` process (built host + this plugin's dist, real
// converter sandbox, embedded SQLite) drains a backlog far larger than its pipeline limit (10,000
// in flight) from the real Kafka broker: fetching pauses when the pipeline is full, and one fetch
// is at most `maxPollBytes`, so what the host holds does not grow with the backlog. With Kafka's
// default fetch sizes (1 MiB per partition) this host reached 771 MB.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { drainMemory, startHostProcess, storedTelemetry } from '@tbi/plugin-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, ensureBroker, numbered, PLAINTEXT, produce, unique } from './harness.js';

const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');
const TOKEN = 'kafka-memory-token-0123456789';
const BACKLOG = 400_000;
/** The same bound as the MQTT connector's test: the pipeline's and the store's working set, not the backlog. */
const RSS_LIMIT_MB = 512;
/** Most the peak may still rise over the second half of the drain. */
const SECOND_HALF_GROWTH_MB = 100;
const UPLINK = `
  var data = decodeToJson(payload);
  return { deviceName: 'meter', deviceType: 'kafka-memory', telemetry: { ts: 1700000000000 + data.n, values: { n: data.n } } };
`;

let dir = '';

beforeAll(async () => {
  await ensureBroker();
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-kafka-memory-'));
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a Kafka backlog far larger than the pipeline', () => {
  it(`drains ${BACKLOG.toLocaleString('en')} records with resident memory under ${RSS_LIMIT_MB} MB, none lost, no consumer restart`, async () => {
    const topic = unique('memory');
    await createTopic(topic, 3);
    for (let from = 0; from < BACKLOG; from += 50_000) await produce(topic, numbered(50_000, 10, from));

    const host = await startHostProcess({
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
            type: 'kafka',
            config: { bootstrapServers: [PLAINTEXT], uplink: { topics: [topic], groupId: `${topic}-group` } },
            uplinkConverter: { inline: UPLINK },
            debug: { mode: 'off' },
          },
        ],
      },
    });
    try {
      const drain = await drainMemory(host.child.pid!, () => host.metric('tbi_messages_stored_total'), BACKLOG);
      expect(drain.drained).toBe(true);
      expect(drain.samples.length).toBeGreaterThan(10); // sampled during the drain, not only around it
      expect(drain.peakMb).toBeLessThan(RSS_LIMIT_MB);
      expect(drain.firstHalfPeakMb).toBeGreaterThan(0);
      expect(drain.peakMb - drain.firstHalfPeakMb).toBeLessThan(SECOND_HALF_GROWTH_MB);
      // The consumer stream never had to be re-created (fetches held back, not failed).
      expect(host.logs.some((l) => l.includes('kafka consumer stream failed'))).toBe(false);
      const values = storedTelemetry(path.join(dir, 'data'), 'n', { name: 'meter' });
      expect(new Set(values).size).toBe(BACKLOG);
    } finally {
      await host.stop();
    }
  }, 600_000);
});
