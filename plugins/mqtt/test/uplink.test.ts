// The uplink against the real Mosquitto (shared instance, anonymous listener), in-process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { broker, publishMany, SHARED_PORTS, testClient } from './broker.js';
import { eventually, startHarness, uniquePrefix, type Harness } from './harness.js';

let publisher: MqttClient;
const harnesses: Harness[] = [];
const dirs: string[] = [];

const base = { host: '127.0.0.1', port: SHARED_PORTS.plain, reconnect: { initialDelayMs: 200, maxDelayMs: 1000 } };
async function harness(...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args);
  harnesses.push(h);
  return h;
}
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tbi-mqtt-session-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  await broker().start();
  publisher = await testClient();
});
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.stop()));
});
afterAll(async () => {
  await publisher?.endAsync();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('uplink against Mosquitto', () => {
  it('subscribes several filters with wildcards and puts topic, QoS, retain and device patterns into metadata', async () => {
    const p = uniquePrefix('filters');
    const h = await harness({
      ...base,
      protocolVersion: '5',
      topicFilters: [
        { filter: `${p}/sensors/+/telemetry`, qos: 1 },
        { filter: `${p}/gw/#`, qos: 0, deviceNamePattern: 'gw-${topic[-1]}', deviceTypePattern: 'gateway' },
      ],
      deviceNamePattern: '${topic[-2]}',
      deviceTypePattern: '${topic[-3]}',
    });
    expect(h.integration.health().status).toBe('up');
    await eventually(() => h.logger.entries.some((l) => l.msg === 'subscribed'));
    await publisher.publishAsync(`${p}/sensors/device1/telemetry`, '{"t":1}', {
      qos: 1,
      properties: { contentType: 'application/json', userProperties: { site: 'north', tag: ['a', 'b'] } },
    });
    await publisher.publishAsync(`${p}/gw/a/b/box7`, 'gw', { qos: 1 });
    await publisher.publishAsync(`${p}/sensors/device1/other`, 'not subscribed', { qos: 1 });
    await publisher.publishAsync(`${p}/sensors/device2/telemetry`, 'q0', { qos: 0 });

    expect(await eventually(() => h.stored.length >= 3)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    const byText = Object.fromEntries(h.stored.map((m) => [Buffer.from(m.payload).toString(), m.metadata]));
    expect(Object.keys(byText).sort()).toEqual(['gw', 'q0', '{"t":1}']);
    expect(byText['{"t":1}']).toEqual({
      topic: `${p}/sensors/device1/telemetry`,
      qos: '1',
      retain: 'false',
      contentType: 'application/json',
      'userProperty:site': 'north',
      'userProperty:tag': 'a,b',
      deviceName: 'device1',
      deviceType: 'sensors',
    });
    // Granted QoS 0 on the second filter: delivered at QoS 0 whatever the publisher used.
    expect(byText.gw).toMatchObject({ topic: `${p}/gw/a/b/box7`, qos: '0', deviceName: 'gw-box7', deviceType: 'gateway' });
    expect(byText.q0).toMatchObject({ qos: '0', deviceName: 'device2' });
    expect(h.metrics.get('tbi_mqtt_messages_received_total', { qos: '1' })).toBe(1);
  });

  it("names devices as ThingsBoard's topic-mapping table does, ranges of levels included", async () => {
    // The table's exact topics, so no test prefix: other traffic on the shared broker may match
    // these filters too, hence a clean session and a payload of our own to pick ours out.
    const token = `table-${Math.random().toString(36).slice(2)}`;
    const h = await harness({
      ...base,
      cleanSession: true,
      topicFilters: [
        { filter: 'sensors/+/telemetry', qos: 1, deviceNamePattern: '${topic[1]}' },
        { filter: '+/+/data', qos: 1, deviceNamePattern: '${topic[1]}' },
        { filter: 'building/#', qos: 1, deviceNamePattern: '${topic[1:3]}', deviceTypePattern: '${topic[0]}' },
      ],
    });
    await eventually(() => h.logger.entries.some((l) => l.msg === 'subscribed'));
    const table: [string, string][] = [
      ['sensors/device1/telemetry', 'device1'],
      ['site/dev123/data', 'dev123'],
      ['building/floor1/room2/temp', 'floor1-room2'],
    ];
    for (const [topic] of table) await publisher.publishAsync(topic, token, { qos: 1 });
    const ours = () => h.stored.filter((m) => Buffer.from(m.payload).toString() === token);
    expect(await eventually(() => ours().length >= 3)).toBe(true);
    const names = Object.fromEntries(ours().map((m) => [m.metadata.topic, m.metadata.deviceName]));
    expect(names).toEqual(Object.fromEntries(table));
    expect(ours().find((m) => m.metadata.topic === 'building/floor1/room2/temp')?.metadata.deviceType).toBe('building');
  });

  it('marks retained messages', async () => {
    const p = uniquePrefix('retain');
    await publisher.publishAsync(`${p}/state`, 'kept', { qos: 1, retain: true });
    const h = await harness({ ...base, topicFilters: [{ filter: `${p}/#` }] });
    expect(await eventually(() => h.stored.length === 1)).toBe(true);
    expect(h.stored[0]!.metadata).toMatchObject({ topic: `${p}/state`, retain: 'true' });
    await publisher.publishAsync(`${p}/state`, '', { qos: 1, retain: true }); // clear it
  });

  it('hands messages over in micro-batches', async () => {
    const p = uniquePrefix('batch');
    const h = await harness({ ...base, protocolVersion: '5', topicFilters: [{ filter: `${p}/#` }], batch: { maxMessages: 100, lingerMs: 20 } });
    await eventually(() => h.logger.entries.some((l) => l.msg === 'subscribed'));
    await publishMany(publisher, `${p}/x`, 1000);
    expect(await eventually(() => h.stored.length === 1000)).toBe(true);
    expect(Math.max(...h.batches)).toBeLessThanOrEqual(100);
    expect(h.batches.length).toBeLessThan(1000 / 2); // batched, not one submit per message
    expect(h.metrics.get('tbi_mqtt_messages_acked_total')).toBe(1000);
  });

  it('acknowledges QoS 1 only after the submit resolved: a session cut while the platform is down gets every message again', async () => {
    const p = uniquePrefix('ack');
    const dataDir = await tempDir();
    const config = { ...base, protocolVersion: '5' as const, topicFilters: [{ filter: `${p}/#`, qos: 1 as const }], stopGraceMs: 200 };
    const first = await startHarness(config, { dataDir, platform: 'down' });
    await eventually(() => first.logger.entries.some((l) => l.msg === 'subscribed'));
    await publishMany(publisher, `${p}/x`, 50);
    expect(await eventually(() => first.submitted.length === 50)).toBe(true);
    expect(first.stored).toHaveLength(0);
    expect(first.metrics.get('tbi_mqtt_messages_acked_total')).toBe(0);
    expect(first.metrics.get('tbi_mqtt_messages_unacked')).toBe(50);
    await first.stop();

    // Same client ID (kept in the data dir), platform up: the broker redelivers all 50.
    const second = await harness(config, { dataDir });
    expect(await eventually(() => second.stored.length >= 50)).toBe(true);
    expect(new Set(second.storedTexts())).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `m-${i}`)));
  });

  it('completes QoS 2 deliveries with PUBCOMP after storage', async () => {
    const p = uniquePrefix('qos2');
    const h = await harness({ ...base, protocolVersion: '5', topicFilters: [{ filter: `${p}/#`, qos: 2 }] });
    await eventually(() => h.logger.entries.some((l) => l.msg === 'subscribed'));
    await publishMany(publisher, `${p}/x`, 300, { qos: 2 });
    expect(await eventually(() => h.stored.length === 300)).toBe(true);
    expect(new Set(h.storedTexts()).size).toBe(300);
    expect(h.stored.every((m) => m.metadata.qos === '2')).toBe(true);
    expect(await eventually(() => h.metrics.get('tbi_mqtt_messages_acked_total') === 300)).toBe(true);
  });

  it("keeps QoS 2 messages it answered with PUBREC on disk: a new process completes them after the broker's PUBREL", async () => {
    const p = uniquePrefix('qos2-disk');
    const dataDir = await tempDir();
    const config = { ...base, protocolVersion: '5' as const, topicFilters: [{ filter: `${p}/#`, qos: 2 as const }], stopGraceMs: 200 };
    const first = await startHarness(config, { dataDir, platform: 'down' });
    await eventually(() => first.logger.entries.some((l) => l.msg === 'subscribed'));
    await publishMany(publisher, `${p}/x`, 50, { qos: 2 });
    expect(await eventually(() => first.submitted.length === 50)).toBe(true);
    await first.stop(); // the broker now sends only PUBREL for these, never the messages again
    const second = await harness(config, { dataDir });
    expect(await eventually(() => new Set(second.storedTexts()).size === 50)).toBe(true);
    expect(await eventually(() => second.metrics.get('tbi_mqtt_messages_acked_total') >= 50)).toBe(true);
  });

  it('keeps a persistent session: messages published while the integration is stopped arrive after it starts', async () => {
    const p = uniquePrefix('session');
    const dataDir = await tempDir();
    const config = { ...base, topicFilters: [{ filter: `${p}/#`, qos: 1 as const }] };
    const first = await startHarness(config, { dataDir });
    await eventually(() => first.logger.entries.some((l) => l.msg === 'subscribed'));
    await publishMany(publisher, `${p}/x`, 10);
    expect(await eventually(() => first.stored.length === 10)).toBe(true);
    await first.stop();
    await publishMany(publisher, `${p}/x`, 20, { from: 10 });
    const second = await harness(config, { dataDir });
    expect(await eventually(() => second.stored.length >= 20)).toBe(true);
    expect(second.storedTexts().sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m-${i + 10}`).sort());
  });

  it('dead-letters messages over maxMessageBytes through the host without converting them, and acknowledges them', async () => {
    const p = uniquePrefix('size');
    const dataDir = await tempDir();
    const h = await harness({ ...base, topicFilters: [{ filter: `${p}/#` }], maxMessageBytes: 100 }, { dataDir });
    await eventually(() => h.logger.entries.some((l) => l.msg === 'subscribed'));
    await publisher.publishAsync(`${p}/big`, 'x'.repeat(101), { qos: 1 });
    await publisher.publishAsync(`${p}/small`, 'y'.repeat(100), { qos: 1 });
    expect(await eventually(() => h.stored.length === 1 && h.metrics.get('tbi_mqtt_messages_acked_total') === 2)).toBe(true);
    expect(h.storedTexts()).toEqual(['y'.repeat(100)]);
    expect(h.rejected).toHaveLength(1);
    expect(h.rejected[0]).toMatchObject({ reason: 'message of 101 bytes is larger than maxMessageBytes (100)', message: { metadata: { topic: `${p}/big` } } });
    expect(Buffer.from(h.rejected[0]!.message.payload).toString()).toBe('x'.repeat(101));
    expect(h.metrics.get('tbi_mqtt_messages_oversized_total')).toBe(1);
  });

  it('holds messages while paused and hands them over on resume', async () => {
    const p = uniquePrefix('pause');
    const h = await harness({ ...base, topicFilters: [{ filter: `${p}/#` }] });
    await eventually(() => h.logger.entries.some((l) => l.msg === 'subscribed'));
    h.integration.pause!();
    await publishMany(publisher, `${p}/x`, 30);
    await new Promise((r) => setTimeout(r, 500));
    expect(h.submitted).toHaveLength(0);
    h.integration.resume!();
    expect(await eventually(() => h.stored.length === 30)).toBe(true);
  });

  it('stops reading the socket instead of dropping when paused under a QoS 0 flood', async () => {
    const p = uniquePrefix('flood');
    const h = await harness({ ...base, protocolVersion: '5', topicFilters: [{ filter: `${p}/#`, qos: 0 }] });
    await eventually(() => h.logger.entries.some((l) => l.msg === 'subscribed'));
    h.integration.pause!();
    await publishMany(publisher, `${p}/x`, 15_000, { qos: 0 });
    expect(await eventually(() => h.metrics.get('tbi_mqtt_reads_blocked_total') === 1)).toBe(true);
    expect(h.submitted).toHaveLength(0);
    h.integration.resume!();
    expect(await eventually(() => h.stored.length === 15_000, 30_000)).toBe(true);
    expect(new Set(h.storedTexts()).size).toBe(15_000);
  });

  it('keeps the connection while reads are held for several keepalives (PINGREQs go out, the PINGRESPs wait)', async () => {
    const p = uniquePrefix('held-keepalive');
    // 1 s keepalive: the mqtt client gives up 1.5 s after the last packet it read.
    const h = await harness({ ...base, protocolVersion: '5', keepaliveSec: 1, topicFilters: [{ filter: `${p}/#`, qos: 0 }] });
    await eventually(() => h.logger.entries.some((l) => l.msg === 'subscribed'));
    h.integration.pause!();
    await publishMany(publisher, `${p}/x`, 15_000, { qos: 0 });
    expect(await eventually(() => h.metrics.get('tbi_mqtt_reads_blocked_total') === 1)).toBe(true);
    // Hold the reads for four keepalives: without the guard the client closes the connection and
    // the QoS 0 messages the broker already sent on it are gone.
    await new Promise((r) => setTimeout(r, 4000));
    expect(h.metrics.get('tbi_mqtt_reconnect_attempts_total')).toBe(0);
    expect(h.integration.health().status).toBe('up');
    h.integration.resume!();
    expect(await eventually(() => h.stored.length === 15_000, 30_000)).toBe(true);
    expect(new Set(h.storedTexts()).size).toBe(15_000);
    expect(h.metrics.get('tbi_mqtt_reconnect_attempts_total')).toBe(0);
    expect(h.logger.entries.some((l) => l.msg?.includes('lost the connection'))).toBe(false);
  });
});
