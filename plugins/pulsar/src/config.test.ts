import { describe, expect, it } from 'vitest';
import { pulsarConfigSchema } from './config.js';

const issues = (input: unknown) => {
  const r = pulsarConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('pulsar config', () => {
  it("takes ThingsBoard's receive batching defaults and numbers written as strings", () => {
    const c = pulsarConfigSchema.parse({
      webServiceUrl: 'http://127.0.0.1:8080',
      uplink: { topics: 'persistent://public/default/t', subscriptionName: 's', receiverQueueSize: '500' },
    });
    expect(c.uplink).toMatchObject({
      topics: ['persistent://public/default/t'],
      subscriptionType: 'Shared',
      receiverQueueSize: 500,
      batch: { maxMessages: 1000, maxBytes: 10 * 1024 * 1024, timeoutMs: 100 },
    });
    expect(c.driver).toBe('websocket');
  });

  it('names what is wrong: a malformed topic path, a missing URL, a pattern on the websocket driver, several connections on Exclusive', () => {
    expect(issues({ webServiceUrl: 'http://h:8080', uplink: { topics: ['persistent://public/t'], subscriptionName: 's' } }).join()).toMatch(
      /uplink\.topics\.0: persistent:\/\/tenant\/namespace\/topic/,
    );
    expect(issues({ uplink: { topics: ['t'], subscriptionName: 's' } }).join()).toMatch(/webServiceUrl: the websocket driver needs/);
    expect(issues({ webServiceUrl: 'http://h:8080', uplink: { topicsPattern: 'persistent://public/default/t-.*', subscriptionName: 's' } }).join()).toMatch(
      /cannot subscribe by pattern/,
    );
    expect(
      issues({ webServiceUrl: 'http://h:8080', uplink: { topics: ['t'], subscriptionName: 's', subscriptionType: 'Exclusive', connections: 2 } }).join(),
    ).toMatch(/connections must be 1/);
    expect(issues({ driver: 'native', uplink: { topics: ['t'], subscriptionName: 's' } }).join()).toMatch(/serviceUrl: the native driver needs/);
  });
});
