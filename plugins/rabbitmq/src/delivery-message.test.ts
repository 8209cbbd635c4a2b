import { describe, expect, it } from 'vitest';
import { deliveryCount, deliverySourceId, toRawMessage } from './delivery-message.js';
import type { Delivery } from './driver/types.js';

const base: Delivery = {
  queue: 'q',
  deliveryTag: 7,
  redelivered: false,
  exchange: 'ex',
  routingKey: 'sensors.a',
  body: Buffer.from('{"t":1}'),
  properties: {},
};
const noIds = { stream: false, messageIdIsUnique: false };

describe('toRawMessage', () => {
  it('gives the converter exchange, routing key, queue, properties and headers', () => {
    const m = toRawMessage(
      {
        ...base,
        properties: {
          contentType: 'application/json',
          messageId: 'm-1',
          correlationId: 'c-1',
          replyTo: 'replies',
          timestamp: 1_700_000_000,
          headers: { site: 'north', count: 3, exchange: 'spoofed', nested: { a: 1 }, raw: Buffer.from('bytes') },
        },
      },
      42,
      noIds,
    );
    expect(m.metadata).toEqual({
      site: 'north',
      count: '3',
      nested: '{"a":1}',
      raw: 'bytes',
      contentType: 'application/json',
      messageId: 'm-1',
      correlationId: 'c-1',
      replyTo: 'replies',
      timestamp: '1700000000000',
      exchange: 'ex',
      routingKey: 'sensors.a',
      queue: 'q',
      redelivered: 'false',
      deliveryCount: '1',
    });
    expect(m.receivedAt).toBe(42);
    expect(m.sourceId).toBeUndefined();
  });

  it('never lets a header stand in for a reserved name, even when that property is not set', () => {
    const m = toRawMessage(
      { ...base, redelivered: true, properties: { headers: { type: 'spoofed', messageId: 'spoofed', streamOffset: 5, deliveryCount: 9, plain: 'ok' } } },
      0,
      noIds,
    );
    expect(m.metadata).toEqual({ plain: 'ok', exchange: 'ex', routingKey: 'sensors.a', queue: 'q', redelivered: 'true', deliveryCount: '2' });
    expect(Object.keys(m)).not.toContain('sourceId');
  });

  it('leaves out empty properties and passes numbers as text', () => {
    const m = toRawMessage({ ...base, properties: { contentType: '', messageId: undefined, priority: 0, timestamp: 0 } }, 0, noIds);
    expect(m.metadata).toMatchObject({ priority: '0', timestamp: '0' });
    expect(m.metadata).not.toHaveProperty('contentType');
    expect(m.metadata).not.toHaveProperty('messageId');
  });

  it('counts deliveries from x-delivery-count (quorum) or the redelivered flag', () => {
    expect(deliveryCount({ ...base, properties: { headers: { 'x-delivery-count': 3 } } })).toBe(4);
    expect(deliveryCount({ ...base, redelivered: true })).toBe(2);
    expect(deliveryCount(base)).toBe(1);
  });

  it('takes a stable source id from the stream offset, or from a unique message-id', () => {
    const stream = { ...base, properties: { headers: { 'x-stream-offset': 12 }, messageId: 'm' } };
    expect(deliverySourceId(stream, { stream: true, messageIdIsUnique: true })).toBe('q@12');
    expect(deliverySourceId(stream, { stream: false, messageIdIsUnique: true })).toBe('q#m');
    expect(deliverySourceId(stream, noIds)).toBeUndefined();
    expect(toRawMessage(stream, 0, { stream: true, messageIdIsUnique: false }).metadata.streamOffset).toBe('12');
  });
});
