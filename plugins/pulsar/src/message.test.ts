import { describe, expect, it } from 'vitest';
import { toRawMessage } from './message.js';
import { parseTopic, topicPath } from './topic.js';

describe('toRawMessage', () => {
  it('puts topic, id, key, times, redelivery count and properties in metadata; sourceId is topic@ledger:entry', () => {
    const m = toRawMessage(
      {
        messageId: 'CAEQAg==',
        topic: 'persistent://public/default/t',
        payload: Buffer.from('x'),
        key: 'k',
        properties: { site: 'n', topic: 'spoof' },
        publishTime: 10,
        eventTime: 5,
        redeliveryCount: 2,
      },
      99,
    );
    expect(m.metadata).toEqual({
      site: 'n',
      topic: 'persistent://public/default/t',
      messageId: 'CAEQAg==',
      key: 'k',
      publishTime: '10',
      eventTime: '5',
      redeliveryCount: '2',
    });
    expect(m.sourceId).toBe('persistent://public/default/t@1:2');
    expect(m.receivedAt).toBe(99);
  });

  it('keeps the batch index in sourceId, and an id that is not a MessageIdData as it came', () => {
    const at = (messageId: string) => toRawMessage({ messageId, topic: 't', payload: Buffer.from('x'), properties: {}, redeliveryCount: 0 }, 0).sourceId;
    expect(at(Buffer.from('080410012003300a', 'hex').toString('base64'))).toBe('t@4:1:3');
    expect(at('not-an-id')).toBe('t@not-an-id');
  });
});

describe('parseTopic', () => {
  it('splits full names, puts bare names in public/default, refuses partial paths', () => {
    expect(topicPath(parseTopic('persistent://acme/site 1/t'))).toBe('persistent/acme/site%201/t');
    expect(parseTopic('t').full).toBe('persistent://public/default/t');
    expect(() => parseTopic('persistent://public/t')).toThrow(/persistent:\/\/tenant\/namespace\/topic/);
  });
});
