import { bareContext, memoryMetrics } from '@tbi/plugin-testkit';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { mqttConfigSchema } from './config.js';
import { MqttSource, type SourceConnection } from './source.js';

/** A source on a fake connection: what it writes to the socket, and the submits it made. */
function fakeSource() {
  const config = mqttConfigSchema.parse({ host: 'localhost', topicFilters: [{ filter: 'a/#', qos: 1 }], batch: { maxMessages: 100, lingerMs: 0 } });
  const writes: Buffer[] = [];
  const deleted: number[] = [];
  const submits: Array<() => void> = [];
  const metrics = memoryMetrics();
  const client = {
    stream: { write: (bytes: Buffer) => writes.push(Buffer.from(bytes)) },
    incomingStore: { del: (packet: { messageId: number }) => deleted.push(packet.messageId) },
  } as unknown as MqttClient;
  const conn: SourceConnection = { client, connected: true, recycle() {}, holdReads() {}, releaseReads() {} };
  const uplink = {
    submit: (messages: unknown[]) => new Promise((resolve) => submits.push(() => resolve(messages.map(() => ({ status: 'stored', records: [] }))))),
  };
  const ctx = bareContext({ type: 'mqtt', config, uplink: uplink as never, dataDir: '/nonexistent', metrics });
  const source = new MqttSource(ctx, conn);
  const deliver = (messageId: number, qos: 0 | 1 | 2) => {
    const packet = { cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos, messageId, retain: false, dup: false } as IPublishPacket;
    client.handleMessage(packet, () => {});
  };
  return { source, deliver, writes, deleted, submits, metrics };
}

const flushed = () => new Promise((resolve) => setImmediate(resolve));

describe('MqttSource acknowledgements', () => {
  it('writes the PUBACKs and PUBCOMPs of a stored batch in one socket write, in arrival order', async () => {
    const s = fakeSource();
    s.deliver(1, 1);
    s.deliver(300, 2);
    s.deliver(2, 0);
    s.deliver(65535, 1);
    await flushed();
    expect(s.submits).toHaveLength(1);
    expect(s.writes).toHaveLength(0); // nothing acknowledged before the submit resolved
    expect(s.metrics.get('tbi_mqtt_messages_unacked')).toBe(3);
    s.submits[0]!();
    await flushed();
    expect(s.writes).toHaveLength(1);
    // PUBACK 1, PUBCOMP 300, PUBACK 65535: type, remaining length 2, packet id (QoS 0 has none).
    expect(s.writes[0]!.toString('hex')).toBe('40020001' + '7002012c' + '4002ffff');
    expect(s.deleted).toEqual([300]); // the QoS 2 message leaves the client's incoming store
    expect(s.metrics.get('tbi_mqtt_messages_acked_total')).toBe(3);
    expect(s.metrics.get('tbi_mqtt_messages_unacked')).toBe(0);
    expect(s.metrics.get('tbi_mqtt_messages_received_total', { qos: '1' })).toBe(2);
    expect(s.metrics.get('tbi_mqtt_messages_received_total', { qos: '0' })).toBe(1);
  });

  it('keeps the order across batches: a later batch stored first waits for the earlier one', async () => {
    const s = fakeSource();
    for (let id = 1; id <= 150; id++) s.deliver(id, 1); // batches of 100 and 50
    await flushed();
    expect(s.submits).toHaveLength(2);
    s.submits[1]!();
    await flushed();
    expect(s.writes).toHaveLength(0);
    s.submits[0]!();
    await flushed();
    expect(s.writes).toHaveLength(1);
    const ids = Array.from({ length: 150 }, (_, i) => s.writes[0]!.readUInt16BE(i * 4 + 2));
    expect(ids).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
  });
});
