// The bridge recipe (examples/bridge/tbi.yaml) end to end, run as it is by a real `tbi start`:
// machines over MQTT (Mosquitto) and a SCADA system over RabbitMQ, one data model in the embedded
// platform, every stored record exported to Kafka. Needs `pnpm build` first (scripts/test.sh does it).
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Admin, Consumer } from '@platformatic/kafka';
import { startHostProcess, uniqueName, withHostLogs, type HostProcess } from '@tbi/plugin-testkit';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaListeners, mosquittoPorts, rabbitmqPorts } from '../../scripts/ports.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TOKEN = 'bridge-recipe-token-0123456789';
const KAFKA = kafkaListeners().plaintext;
const hosts: HostProcess[] = [];

beforeAll(async () => {
  await promisify(execFile)(path.join(ROOT, 'scripts/brokers.sh'), ['start', 'mosquitto', 'rabbitmq', 'kafka'], { timeout: 240_000 });
}, 300_000);
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
}, 60_000);

async function readEvents(topic: string, count: number, timeoutMs = 60_000): Promise<Array<{ key: string; value: Record<string, unknown> }>> {
  const consumer = new Consumer({ clientId: 'bridge-reader', groupId: uniqueName('bridge-reader'), bootstrapBrokers: [KAFKA], autocommit: false });
  const events: Array<{ key: string; value: Record<string, unknown> }> = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${events.length} of ${count} events: ${JSON.stringify(events)}`)), timeoutMs);
      stream.on('data', (m) => {
        events.push({ key: m.key?.toString() ?? '', value: JSON.parse(m.value?.toString() ?? '{}') as Record<string, unknown> });
        if (events.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      });
      stream.on('error', reject);
    });
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return events;
}

describe('the bridge recipe', { timeout: 240_000 }, () => {
  it('brings MQTT machines and RabbitMQ SCADA readings into one model and exports every stored record to Kafka', async () => {
    const topic = uniqueName('machine-events');
    const admin = new Admin({ clientId: 'bridge-admin', bootstrapBrokers: [KAFKA] });
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    await admin.close();
    const dir = await mkdtemp(path.join(tmpdir(), 'tbi-bridge-'));
    const machine = uniqueName('m');
    const host = await startHostProcess({
      dir,
      token: TOKEN,
      configFile: path.join(import.meta.dirname, 'tbi.yaml'),
      env: {
        TBI_TOKEN: TOKEN,
        TBI_DATA_DIR: path.join(dir, '.data'),
        MQTT_PORT: String(mosquittoPorts().plain),
        AMQP_PORT: String(rabbitmqPorts().amqp),
        KAFKA_BOOTSTRAP: KAFKA,
        EVENTS_TOPIC: topic,
      },
    });
    hosts.push(host);
    await withHostLogs(hosts, async () => {
      // The RabbitMQ integration declares its queue; the broker's guest user is loopback-only and
      // present in the project's test node.
      const conn = await amqp.connect(`amqp://tbi:tbi-secret@127.0.0.1:${rabbitmqPorts().amqp}`);
      const ch = await conn.createConfirmChannel();
      const tag = `PRESS_${machine.replace(/\W/g, '').toUpperCase()}`;
      ch.sendToQueue(
        'scada.readings',
        Buffer.from(
          JSON.stringify({
            tag,
            time: '2026-12-03T10:00:00Z',
            readings: [
              { name: 'TEMP_C', value: 65.1 },
              { name: 'VIB_MM_S', value: 1.2 },
            ],
          }),
        ),
      );
      await ch.waitForConfirms();
      await conn.close();
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mosquittoPorts().plain}`);
      await client.publishAsync(`factory/${machine}/telemetry`, JSON.stringify({ temperature: 71.5, vibration: 0.02, ts: Date.UTC(2026, 11, 3, 10) }), {
        qos: 1,
      });
      await client.endAsync();

      // Each device: created, its attributes, its telemetry = 3 events each.
      const events = await readEvents(topic, 6);
      const press = tag.toLowerCase().replace(/_/g, '-');
      const of = (device: string) => events.filter((e) => e.key === device).map((e) => e.value);
      for (const [device, via, temperature, vibration, site] of [
        [machine, 'mqtt-machines', 71.5, 0.02, 'north'],
        [press, 'rabbitmq-scada', 65.1, 1.2, 'south'],
      ] as const) {
        const mine = of(device);
        expect(mine.map((e) => e.event)).toEqual(['ENTITY_CREATED', 'POST_ATTRIBUTES_REQUEST', 'POST_TELEMETRY_REQUEST']);
        expect(mine.every((e) => e.type === 'machine' && e.via === via)).toBe(true);
        expect(mine[1]!.data).toEqual({ site, source: via === 'mqtt-machines' ? 'mqtt' : 'scada' });
        expect(mine[2]).toMatchObject({ ts: Date.UTC(2026, 11, 3, 10), data: { temperature, vibration } });
        // One model in the platform: same type and keys whatever the source.
        const { body: latest } = await host.api(`/devices/${device}/telemetry/latest`);
        expect(Object.keys(latest).sort()).toEqual(['temperature', 'vibration']);
        expect((await host.api(`/devices/${device}`)).body.type).toBe('machine');
      }
      const { body: status } = await host.api('/integrations/kafka-events');
      expect(status.export).toMatchObject({ state: 'running', lag: 0, sent: 6 });
    });
  });
});
