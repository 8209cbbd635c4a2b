// The downlink (`Integration.send`) against the real Mosquitto: a test subscriber receives it.
import type { OutboundDownlink } from '@tbi/plugin-api';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { broker, SHARED_PORTS, testClient } from './broker.js';
import { eventually, startHarness, uniquePrefix, type Harness } from './harness.js';

const p = uniquePrefix('downlink');
let h: Harness;
let subscriber: MqttClient;
const received: Array<{ topic: string; payload: string; qos: number; retain: boolean; contentType?: string }> = [];

function downlink(device: string, data: string, metadata: Record<string, string> = {}, contentType: 'JSON' | 'TEXT' | 'BINARY' = 'JSON'): OutboundDownlink {
  return { commandId: `cmd-${device}`, deviceName: device, encoded: { contentType, data, metadata }, payload: Buffer.from(data) };
}

beforeAll(async () => {
  await broker().start();
  subscriber = await testClient();
  subscriber.on('message', (topic, payload, packet) => {
    received.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain, contentType: packet.properties?.contentType });
  });
  await subscriber.subscribeAsync(`${p}/#`, { qos: 2 });
  h = await startHarness({
    host: '127.0.0.1',
    port: SHARED_PORTS.plain,
    protocolVersion: '5',
    topicFilters: [{ filter: `${p}/up/#` }],
    downlink: { topicPattern: `${p}/devices/\${deviceName}/\${kind}` },
  });
});
afterAll(async () => {
  await h?.stop();
  await subscriber?.endAsync();
});

describe('downlink publishes', () => {
  it('publishes to the topic the converter chose (metadata.topic), QoS 1 by default, with the MQTT 5 content type', async () => {
    await h.integration.send!(downlink('dev-1', '{"method":"reboot"}', { topic: `${p}/direct/dev-1` }));
    expect(await eventually(() => received.some((r) => r.topic === `${p}/direct/dev-1`))).toBe(true);
    expect(received.find((r) => r.topic === `${p}/direct/dev-1`)).toEqual({
      topic: `${p}/direct/dev-1`,
      payload: '{"method":"reboot"}',
      qos: 1,
      retain: false,
      contentType: 'application/json',
    });
    expect(h.metrics.get('tbi_mqtt_downlinks_total', { result: 'published' })).toBe(1);
  });

  it('falls back to the topic pattern with the device name and converter metadata; metadata may set QoS and retain', async () => {
    await h.integration.send!(downlink('dev-2', 'ON', { kind: 'led', qos: '2', retain: 'true' }, 'TEXT'));
    const topic = `${p}/devices/dev-2/led`;
    expect(await eventually(() => received.some((r) => r.topic === topic))).toBe(true);
    expect(received.find((r) => r.topic === topic)).toMatchObject({ payload: 'ON', qos: 2, contentType: 'text/plain' });
    // Retained: a new subscriber gets it too.
    const late = await testClient();
    const got = new Promise<boolean>((resolve) => late.on('message', (_t, _p, packet) => resolve(packet.retain)));
    await late.subscribeAsync(topic, { qos: 1 });
    expect(await got).toBe(true);
    await late.publishAsync(topic, '', { qos: 1, retain: true });
    await late.endAsync();
  });

  it('refuses a downlink without a topic as not retryable', async () => {
    await expect(h.integration.send!(downlink('dev-3', '{}'))).rejects.toMatchObject({
      code: 'DELIVERY_FAILED',
      retryable: false,
      message: expect.stringContaining('no topic'),
    });
    expect(h.metrics.get('tbi_mqtt_downlinks_total', { result: 'failed' })).toBe(1);
  });
});
