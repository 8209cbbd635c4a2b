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

  it('types numbers and booleans in the JSON Schema, by which the host coerces ${env:…} strings', () => {
    const props = (configJsonSchema as { properties: Record<string, { type?: string; properties?: Record<string, { type?: string }> }> }).properties;
    expect(props.port?.type).toBe('integer');
    expect(props.cleanSession?.type).toBe('boolean');
    expect(props.tls?.properties?.verify?.type).toBe('boolean');
    expect(mqttConfigSchema.safeParse({ host: 'b', port: '1884', topicFilters: [{ filter: 'a' }] }).success).toBe(false);
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

  it('checks placeholders at validation: unknown, garbled, out of range for the filter', () => {
    const issues = (config: Record<string, unknown>) =>
      (mqttConfigSchema.safeParse({ host: 'b', ...config }).error?.issues ?? []).map((i) => ({ path: i.path.join('.'), message: i.message }));
    expect(issues({ topicFilters: [{ filter: 'sensors/+/telemetry' }], deviceNamePattern: '${topik[1]}' })).toEqual([
      { path: 'deviceNamePattern', message: expect.stringContaining('${topik[1]} is none of them') },
    ]);
    // A shared pattern is checked against every filter that uses it, reported once per problem.
    expect(
      issues({
        topicFilters: [{ filter: 'a/+' }, { filter: 'b/+' }, { filter: 'c/+/+/+', deviceTypePattern: '${topic[0]}' }],
        deviceNamePattern: '${topic[2]}',
        deviceTypePattern: '${topic[1:2',
      }),
    ).toEqual([
      {
        path: 'deviceNamePattern',
        message: 'expected levels that topics matching "a/+" have (2 levels, 0 to 1): ${topic[2]} is out of range, received "${topic[2]}"',
      },
      { path: 'deviceTypePattern', message: expect.stringMatching(/^expected placeholders written as/) },
      {
        path: 'deviceNamePattern',
        message: 'expected levels that topics matching "b/+" have (2 levels, 0 to 1): ${topic[2]} is out of range, received "${topic[2]}"',
      },
    ]);
    expect(issues({ topicFilters: [{ filter: 'a/+', deviceNamePattern: '${topic[:0]}' }] })).toEqual([
      { path: 'topicFilters.0.deviceNamePattern', message: expect.stringContaining('out of range') },
    ]);
    expect(issues({ topicFilters: [{ filter: 'a' }], downlink: { topicPattern: 'cmd/${topic[1]}' } })).toEqual([
      { path: 'downlink.topicPattern', message: expect.stringContaining('topic levels exist only in device name and type patterns') },
    ]);
    expect(issues({ topicFilters: [{ filter: 'building/#' }], deviceNamePattern: '${topic[1:3]}', downlink: { topicPattern: 'cmd/${deviceName}' } })).toEqual(
      [],
    );
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
    expect(mqttExclusiveKeys(mqttConfigSchema.parse({ ...base, clientId: 'c1', port: 11893 }))[0]!.key).toBe('broker.local:11893 c1');
    expect(mqttExclusiveKeys(mqttConfigSchema.parse(base))).toEqual([]);
  });
});
