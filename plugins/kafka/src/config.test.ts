import { describe, expect, it } from 'vitest';
import { configJsonSchema, kafkaConfigSchema } from './config.js';

describe('kafkaConfigSchema', () => {
  it('fills defaults and splits bootstrap servers', () => {
    const c = kafkaConfigSchema.parse({ bootstrapServers: '127.0.0.1:9092, other:9093', uplink: { topics: ['t'] } });
    expect(c.bootstrapServers).toEqual(['127.0.0.1:9092', 'other:9093']);
    expect(c.securityProtocol).toBe('PLAINTEXT');
    expect(c.uplink).toMatchObject({ autoOffsetReset: 'earliest', maxPollRecords: 500, maxInFlightBatches: 4, commitIntervalMs: 500 });
    expect(c.downlink).toMatchObject({ acks: 'all', idempotent: true, compression: 'none', lingerMs: 5 });
  });

  it('types numbers and booleans in the JSON Schema, by which the host coerces ${env:…} strings', () => {
    type Node = { type?: string; properties?: Record<string, Node> };
    const props = (configJsonSchema as Node).properties!;
    expect(props.uplink?.properties?.maxPollRecords?.type).toBe('integer');
    expect(props.downlink?.properties?.idempotent?.type).toBe('boolean');
    expect(kafkaConfigSchema.safeParse({ bootstrapServers: ['h:1'], downlink: { idempotent: 'false' } }).success).toBe(false);
  });

  it('names the path of every problem', () => {
    const r = kafkaConfigSchema.safeParse({ bootstrapServers: 'nohostport', securityProtocol: 'SASL_SSL', uplink: {}, downlink: { acks: 'leader' } });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('bootstrapServers.0');
    expect(paths).toContain('uplink');
    // Cross-field checks only run once the fields themselves are valid.
    const r2 = kafkaConfigSchema.safeParse({ bootstrapServers: 'h:1', securityProtocol: 'SASL_SSL', downlink: { acks: 'leader' } });
    expect(r2.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['downlink.acks', 'sasl']);
  });

  it('refuses an invalid topic pattern and unknown keys', () => {
    expect(kafkaConfigSchema.safeParse({ bootstrapServers: 'h:1', uplink: { topicPattern: '(' } }).success).toBe(false);
    expect(kafkaConfigSchema.safeParse({ bootstrapServers: 'h:1', bogus: 1 }).success).toBe(false);
    expect(kafkaConfigSchema.safeParse({ bootstrapServers: 'h:1', uplink: { topicPattern: '^iot\\.' } }).success).toBe(true);
  });

  it('is published as JSON Schema', () => {
    const props = configJsonSchema.properties as Record<string, unknown>;
    expect(Object.keys(props)).toEqual(expect.arrayContaining(['bootstrapServers', 'securityProtocol', 'sasl', 'ssl', 'uplink', 'downlink', 'properties']));
  });
});
