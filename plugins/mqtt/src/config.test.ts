import { describe, expect, it } from 'vitest';
import { configJsonSchema, mqttConfigSchema, mqttExclusiveKeys } from './config.js';

describe('mqtt config', () => {
  it('applies ThingsBoard defaults, with a persistent session', () => {
    const c = mqttConfigSchema.parse({ host: 'broker', topicFilters: [{ filter: 'sensors/+/telemetry' }] });
    expect(c).toMatchObject({
      protocolVersion: '3.1.1',
      cleanSession: false,
      maxMessageBytes: 32368,
      connectTimeoutSec: 10,
      topicFilters: [{ filter: 'sensors/+/telemetry', qos: 1 }],
      downlink: { topicPattern: '${topic}', qos: 1, retain: false },
      batch: { maxMessages: 500, lingerMs: 5 },
    });
    expect(c.port).toBeUndefined(); // 1883, or 8883 with TLS
  });

  it('accepts string forms from ${env:…} values', () => {
    const c = mqttConfigSchema.parse({ host: 'b', port: '1884', cleanSession: 'true', topicFilters: [{ filter: 'a', qos: '2' }], tls: { verify: 'false' } });
    expect(c).toMatchObject({ port: 1884, cleanSession: true, topicFilters: [{ qos: 2 }], tls: { enabled: true, verify: false } });
  });

  it('points at what is wrong', () => {
    const r = mqttConfigSchema.safeParse({ host: 'b', topicFilters: [{ filter: 'a/#/b' }], sharedGroup: 'g', tls: { cert: 'x' } });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['topicFilters.0.filter', 'tls']));
    const shared = mqttConfigSchema.safeParse({ host: 'b', topicFilters: [{ filter: 'a' }], sharedGroup: 'g' });
    expect(shared.error!.issues[0]).toMatchObject({ path: ['protocolVersion'], message: 'shared subscriptions need protocolVersion "5"' });
    expect(mqttConfigSchema.safeParse({ host: 'b', topicFilters: [] }).success).toBe(false);
  });

  it('is published as JSON Schema', () => {
    expect(configJsonSchema).toMatchObject({ type: 'object', required: expect.arrayContaining(['host', 'topicFilters']) });
    expect((configJsonSchema.properties as Record<string, { default?: unknown }>).maxMessageBytes?.default).toBe(32368);
  });
});

describe('mqttExclusiveKeys', () => {
  const base = { host: 'Broker.local', topicFilters: [{ filter: 'a/#' }] };
  it('claims a configured client id on its broker (default port by TLS), nothing for a generated one', () => {
    expect(mqttExclusiveKeys(mqttConfigSchema.parse({ ...base, clientId: 'c1' }))).toEqual([
      { key: 'broker.local:1883 c1', path: ['clientId'], label: 'client id "c1" on broker.local:1883' },
    ]);
    expect(mqttExclusiveKeys(mqttConfigSchema.parse({ ...base, clientId: 'c1', tls: {} }))[0]!.key).toBe('broker.local:8883 c1');
    expect(mqttExclusiveKeys(mqttConfigSchema.parse({ ...base, clientId: 'c1', port: 11883 }))[0]!.key).toBe('broker.local:11883 c1');
    expect(mqttExclusiveKeys(mqttConfigSchema.parse(base))).toEqual([]);
  });
});
