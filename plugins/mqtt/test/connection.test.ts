// Connection features against the real Mosquitto: TLS and password listeners, reconnection
// across a broker restart (a private broker instance, so other test files are not disturbed),
// and MQTT 5 shared subscriptions.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { broker, CERTS, publishMany, SHARED_PORTS, testClient } from './broker.js';
import { eventually, startHarness, uniquePrefix, type Harness } from './harness.js';
import { mosquittoPorts } from '../../../scripts/ports.mjs';

const RESTART_PORTS = mosquittoPorts('TBI_MQTT_RESTART_PORT_BASE');
const restartable = broker('restart-connection-test', RESTART_PORTS);
const fast = { initialDelayMs: 100, maxDelayMs: 500 };

let publisher: MqttClient;
const harnesses: Harness[] = [];
async function harness(...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args);
  harnesses.push(h);
  return h;
}
const subscribed = (h: Harness) => eventually(() => h.logger.entries.some((l) => l.msg === 'subscribed'));

beforeAll(async () => {
  await Promise.all([broker().start(), restartable.start()]);
  publisher = await testClient();
});
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.stop()));
});
afterAll(async () => {
  await publisher?.endAsync();
  await restartable.stop();
});

describe('TLS and authentication', () => {
  it('connects over TLS, verifying the broker against the CA file', async () => {
    const p = uniquePrefix('tls');
    const h = await harness({ host: '127.0.0.1', port: SHARED_PORTS.tls, tls: { ca: path.join(CERTS, 'ca.crt') }, topicFilters: [{ filter: `${p}/#` }] });
    expect(h.integration.health()).toMatchObject({ status: 'up', detail: expect.stringContaining(`mqtts://127.0.0.1:${SHARED_PORTS.tls}`) });
    await subscribed(h);
    await publisher.publishAsync(`${p}/a`, 'over tls', { qos: 1 });
    expect(await eventually(() => h.stored.length === 1)).toBe(true);
  });

  it('presents a client certificate given as PEM text', async () => {
    const { readFile } = await import('node:fs/promises');
    const [ca, cert, key] = await Promise.all(['ca.crt', 'client.crt', 'client.key'].map((f) => readFile(path.join(CERTS, f), 'utf8')));
    const h = await harness({ host: 'localhost', port: SHARED_PORTS.tls, tls: { ca, cert, key }, topicFilters: [{ filter: `${uniquePrefix('cert')}/#` }] });
    expect(h.integration.health().status).toBe('up');
  });

  it('refuses a broker certificate it cannot verify, and reports why', async () => {
    const h = await harness({ host: '127.0.0.1', port: SHARED_PORTS.tls, tls: {}, topicFilters: [{ filter: 'x/#' }], reconnect: fast });
    const health = h.integration.health();
    expect(health.status).toBe('down');
    expect(health.detail).toMatch(new RegExp(`reconnecting to mqtts://127\\.0\\.0\\.1:${SHARED_PORTS.tls} \\(attempt \\d+\\): .*certificate`, 'i'));
  });

  it('connects without verification when verify is off', async () => {
    const h = await harness({ host: '127.0.0.1', port: SHARED_PORTS.tls, tls: { verify: false }, topicFilters: [{ filter: 'x/#' }] });
    expect(h.integration.health().status).toBe('up');
  });

  it('logs in with user name and password, and reports a refused login', async () => {
    const p = uniquePrefix('auth');
    const good = await harness({ host: '127.0.0.1', port: SHARED_PORTS.auth, username: 'tbi', password: 'tbi-secret', topicFilters: [{ filter: `${p}/#` }] });
    expect(good.integration.health().status).toBe('up');
    const bad = await harness({
      host: '127.0.0.1',
      port: SHARED_PORTS.auth,
      username: 'tbi',
      password: 'wrong',
      topicFilters: [{ filter: `${p}/#` }],
      reconnect: fast,
    });
    expect(bad.integration.health()).toMatchObject({ status: 'down', detail: expect.stringMatching(/not authori[sz]ed/i) });
    // It keeps trying (the password may be fixed on the broker side).
    expect(await eventually(() => bad.metrics.get('tbi_mqtt_reconnect_attempts_total') >= 2)).toBe(true);
  });
});

describe('reconnection', () => {
  it('loses nothing when the broker restarts mid-stream, and reports the outage in health and metrics', async () => {
    const p = uniquePrefix('restart');
    const h = await harness({
      host: '127.0.0.1',
      port: RESTART_PORTS.plain,
      protocolVersion: '5',
      topicFilters: [{ filter: `${p}/#`, qos: 1 }],
      reconnect: fast,
    });
    await subscribed(h);
    expect(h.metrics.get('tbi_mqtt_connected')).toBe(1);
    // The platform stalls, so the messages are in the host, unacknowledged, when the broker goes.
    h.setPlatform('down');
    const pub = await testClient({ port: RESTART_PORTS.plain });
    await publishMany(pub, `${p}/x`, 2000);
    await pub.endAsync();
    expect(await eventually(() => h.submitted.length > 0)).toBe(true);
    await restartable.stop();
    expect(await eventually(() => h.integration.health().status === 'down')).toBe(true);
    expect(h.metrics.get('tbi_mqtt_connected')).toBe(0);
    h.setPlatform('up'); // what was in flight is stored now, but its acknowledgements have no connection
    await restartable.start();
    expect(await eventually(() => h.integration.health().status === 'up', 30_000)).toBe(true);
    const pub2 = await testClient({ port: RESTART_PORTS.plain });
    await publishMany(pub2, `${p}/x`, 2000, { from: 2000 });
    await pub2.endAsync();
    expect(await eventually(() => new Set(h.storedTexts()).size === 4000, 60_000)).toBe(true);
    expect(h.metrics.get('tbi_mqtt_reconnect_attempts_total')).toBeGreaterThanOrEqual(1);
    // What was stored during the outage was never acknowledged, so the broker delivered it again.
    expect(h.stored.length).toBeGreaterThan(4000);
  }, 120_000);
});

describe('MQTT 5 shared subscriptions', () => {
  it('splits one stream between two integrations in one group, missing nothing', async () => {
    const p = uniquePrefix('shared');
    const config = {
      host: '127.0.0.1',
      port: SHARED_PORTS.plain,
      protocolVersion: '5' as const,
      sharedGroup: `g-${p.slice(-8)}`,
      topicFilters: [{ filter: `${p}/#`, qos: 1 as const }],
    };
    const a = await harness(config, { name: 'shared-a' });
    const b = await harness(config, { name: 'shared-b' });
    await Promise.all([subscribed(a), subscribed(b)]);
    await publishMany(publisher, `${p}/x`, 1000);
    expect(await eventually(() => new Set([...a.storedTexts(), ...b.storedTexts()]).size === 1000)).toBe(true);
    expect(a.stored.length).toBeGreaterThan(0);
    expect(b.stored.length).toBeGreaterThan(0);
  });
});

describe('client ID', () => {
  it('generates one and keeps it in the data dir for the next start', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'tbi-mqtt-id-'));
    try {
      const first = await startHarness({ host: '127.0.0.1', port: SHARED_PORTS.plain, topicFilters: [{ filter: 'x/#' }] }, { dataDir, name: 'id test!' });
      const id = first.integration.health().detail?.split(' as ')[1];
      await first.stop();
      expect(id).toMatch(/^tbi-idtest-[0-9a-f]{8}$/);
      const second = await harness({ host: '127.0.0.1', port: SHARED_PORTS.plain, topicFilters: [{ filter: 'x/#' }] }, { dataDir, name: 'id test!' });
      expect(second.integration.health().detail).toContain(`as ${id}`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
