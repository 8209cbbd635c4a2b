import { describe, expect, it } from 'vitest';
import { toRawMessage } from './message.js';
import { parseTopic, topicPath } from './topic.js';

describe('toRawMessage', () => {
  it('puts topic, id, key, times, redelivery count and properties in metadata; sourceId is topic@id', () => {
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
    expect(m.sourceId).toBe('persistent://public/default/t@CAEQAg==');
    expect(m.receivedAt).toBe(99);
  });
});

describe('parseTopic', () => {
  it('splits full names, puts bare names in public/default, refuses partial paths', () => {
    expect(topicPath(parseTopic('persistent://acme/site 1/t'))).toBe('persistent/acme/site%201/t');
    expect(parseTopic('t').full).toBe('persistent://public/default/t');
    expect(() => parseTopic('persistent://public/t')).toThrow(/persistent:\/\/tenant\/namespace\/topic/);
  });
});
