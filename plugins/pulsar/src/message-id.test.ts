import { describe, expect, it } from 'vitest';
import { compareMessageIds, decodeMessageId, encodeMessageId, formatMessageId, parseMessageId } from './message-id.js';

describe('message ids', () => {
  it('decodes the WebSocket API ids (measured on Pulsar 4.0.7), with the batch index and size', () => {
    expect(decodeMessageId('CAMQADAA')).toEqual({ ledger: 3, entry: 0, batch: -1 });
    expect(decodeMessageId(Buffer.from('080410012003300a', 'hex').toString('base64'))).toEqual({ ledger: 4, entry: 1, batch: 3, batchSize: 10 });
    for (const bad of ['', 'not base64!', Buffer.from([0x08]).toString('base64'), Buffer.from([0x10, 0x01]).toString('base64')])
      expect(decodeMessageId(bad)).toBeUndefined();
  });

  it('encodes what it decodes, entry -1 (before a ledger’s first entry) as protobuf’s ten-byte varint', () => {
    for (const id of [
      { ledger: 3, entry: 0, batch: -1 },
      { ledger: 123456789, entry: 70000, batch: 4 },
      { ledger: 5, entry: -1, batch: -1 },
      { ledger: 2 ** 50, entry: 2 ** 49 - 1, batch: 0 },
    ])
      expect(decodeMessageId(encodeMessageId(id))).toEqual(id);
    expect(Buffer.from(encodeMessageId({ ledger: 5, entry: -1, batch: -1 }), 'base64')).toHaveLength(13);
  });

  it('parses ledger:entry[:batch] and base64 ids, and formats them back', () => {
    expect(parseMessageId('12:340')).toEqual({ ledger: 12, entry: 340, batch: -1 });
    expect(parseMessageId(' 12:340:7 ')).toEqual({ ledger: 12, entry: 340, batch: 7 });
    expect(parseMessageId('CAMQBTAA')).toEqual({ ledger: 3, entry: 5, batch: -1 });
    for (const bad of ['12', '12:-1', 'a:b', '1:2:3:4', '', '1200']) expect(parseMessageId(bad)).toBeUndefined();
    expect(formatMessageId({ ledger: 12, entry: 340, batch: -1 })).toBe('12:340');
    expect(formatMessageId({ ledger: 12, entry: 340, batch: 7 })).toBe('12:340:7');
  });

  it('orders by ledger, entry, then batch index (a message outside a batch as the first of its entry)', () => {
    const id = (s: string) => parseMessageId(s)!;
    expect(compareMessageIds(id('3:9'), id('4:0'))).toBeLessThan(0);
    expect(compareMessageIds(id('4:1'), id('4:0:9'))).toBeGreaterThan(0);
    expect(compareMessageIds(id('4:0'), id('4:0:0'))).toBe(0);
    expect(compareMessageIds(id('4:0:2'), id('4:0:1'))).toBeGreaterThan(0);
  });
});
