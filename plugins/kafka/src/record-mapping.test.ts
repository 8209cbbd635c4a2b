import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, deadLetterRecord } from './dead-letter.js';
import { downlinkRecord } from './downlink-record.js';
import type { ConsumedRecord } from './driver/types.js';
import { toRawMessage } from './record-message.js';

const record: ConsumedRecord = {
  topic: 'telemetry',
  partition: 2,
  offset: 1842n,
  leaderEpoch: 0,
  key: Buffer.from('dev-1'),
  value: Buffer.from('{"t":1}'),
  timestamp: 1700000000000n,
  headers: [
    ['trace', Buffer.from('abc')],
    ['topic', Buffer.from('spoofed')],
  ],
  generation: 1,
};

describe('toRawMessage', () => {
  it('carries topic/partition/offset/key/timestamp and headers, with a stable sourceId', () => {
    const m = toRawMessage(record, 5);
    expect(m.sourceId).toBe('telemetry/2/1842');
    expect(m.receivedAt).toBe(5);
    expect(Buffer.from(m.payload).toString()).toBe('{"t":1}');
    expect(m.metadata).toEqual({ trace: 'abc', topic: 'telemetry', partition: '2', offset: '1842', key: 'dev-1', timestamp: '1700000000000' });
  });

  it('maps a null key and value to empty', () => {
    const m = toRawMessage({ ...record, key: undefined, value: undefined, headers: [] }, 1);
    expect(m.metadata.key).toBe('');
    expect(m.payload.length).toBe(0);
  });
});

describe('deadLetterRecord', () => {
  it('keeps key, value and headers and adds Kafka Connect error headers', () => {
    const r = deadLetterRecord('dlq', record, { kind: 'INVALID_OUTPUT', message: 'deviceName missing', path: '[0].deviceName' }, 'kafka-in');
    const headers = new Map(r.headers!.map(([k, v]) => [k, v.toString()]));
    expect(r.topic).toBe('dlq');
    expect(r.key?.toString()).toBe('dev-1');
    expect(r.value.toString()).toBe('{"t":1}');
    expect(headers.get('trace')).toBe('abc');
    expect(headers.get(DLQ_HEADERS.topic)).toBe('telemetry');
    expect(headers.get(DLQ_HEADERS.partition)).toBe('2');
    expect(headers.get(DLQ_HEADERS.offset)).toBe('1842');
    expect(headers.get(DLQ_HEADERS.connector)).toBe('kafka-in');
    expect(headers.get(DLQ_HEADERS.className)).toBe('tbi.ConverterError.INVALID_OUTPUT');
    expect(headers.get(DLQ_HEADERS.message)).toBe('deviceName missing');
    expect(headers.get(DLQ_HEADERS.path)).toBe('[0].deviceName');
  });
});

describe('downlinkRecord', () => {
  const downlink = (metadata: Record<string, string>) => ({
    commandId: 'c1',
    deviceName: 'dev-1',
    encoded: { contentType: 'JSON' as const, data: '{"on":true}', metadata },
    payload: Buffer.from('{"on":true}'),
  });

  it('takes topic and key from metadata and the rest as headers', () => {
    const r = downlinkRecord(downlink({ topic: 'cmd', key: 'dev-1', rpc: 'setOn' }), 'default-topic');
    expect(r.topic).toBe('cmd');
    expect(r.key?.toString()).toBe('dev-1');
    expect(r.value.toString()).toBe('{"on":true}');
    expect(r.headers!.map(([k, v]) => [k, v.toString()])).toEqual([['rpc', 'setOn']]);
  });

  it('falls back to the configured topic and fails without any', () => {
    expect(downlinkRecord(downlink({}), 'default-topic').topic).toBe('default-topic');
    expect(downlinkRecord(downlink({}), 'default-topic').key).toBeUndefined();
    expect(() => downlinkRecord(downlink({}), undefined)).toThrow(/no topic/);
  });
});

describe('resolveTopics', () => {
  it('adds the topics matching the pattern, sorted and without duplicates', async () => {
    const { resolveTopics } = await import('./topics.js');
    const driver = { listTopics: async () => ['iot.b', 'iot.a', 'other', 'iot.a'] };
    expect(await resolveTopics({ topics: ['x', 'iot.a'], topicPattern: '^iot\\.' }, driver)).toEqual(['iot.a', 'iot.b', 'x']);
    expect(await resolveTopics({ topics: ['x'], topicPattern: undefined }, driver)).toEqual(['x']);
  });
});
