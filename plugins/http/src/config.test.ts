import { describe, expect, it } from 'vitest';
import { configJsonSchema, httpConfigSchema, httpExclusiveKeys } from './config.js';

describe('httpConfigSchema', () => {
  it('fills every default from an empty block', () => {
    expect(httpConfigSchema.parse({})).toEqual({
      replaceNoContentToOk: false,
      maxBodyBytes: 1_048_576,
      responseTimeoutMs: 30_000,
      retryAfterSeconds: 5,
      headersFilter: {},
      ipAllowlist: [],
      downlink: { method: 'POST', headers: {}, timeoutMs: 10_000, retries: 3, backoffMs: 500, maxBackoffMs: 30_000, maxPendingPerDevice: 100 },
    });
  });

  it('lower-cases header names; numbers and booleans are typed in the JSON Schema, by which the host coerces ${env:…} strings', () => {
    type Node = { type?: string; properties?: Record<string, Node> };
    const props = (configJsonSchema as Node).properties!;
    expect(props.replaceNoContentToOk?.type).toBe('boolean');
    expect(props.maxBodyBytes?.type).toBe('integer');
    expect(httpConfigSchema.safeParse({ maxBodyBytes: '2048' }).success).toBe(false);
    const config = httpConfigSchema.parse({
      headersFilter: { 'X-Api-Key': 'v' },
      hmac: { header: 'X-Hub-Signature-256', secret: 's', toleranceSeconds: 60 },
      replaceNoContentToOk: true,
      maxBodyBytes: 2048,
    });
    expect(config.headersFilter).toEqual({ 'x-api-key': 'v' });
    expect(config.hmac).toMatchObject({ header: 'x-hub-signature-256', algorithm: 'sha256', encoding: 'auto', toleranceSeconds: 60 });
    expect(config.replaceNoContentToOk).toBe(true);
    expect(config.maxBodyBytes).toBe(2048);
  });

  it('reports bad values with their path', () => {
    const result = httpConfigSchema.safeParse({ ipAllowlist: ['10.0.0.0/8', '10.0.0.0/33'], routingKey: 'a/b', typo: 1, replaceNoContentToOk: 'yes' });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['ipAllowlist.1', 'routingKey', 'replaceNoContentToOk', '']));
  });

  it('is published as JSON Schema with descriptions', () => {
    const props = configJsonSchema.properties as Record<string, { description?: string; default?: unknown }>;
    expect(props.replaceNoContentToOk?.default).toBe(false);
    expect(props.hmac?.description).toContain('HMAC');
    expect(Object.keys(props)).toEqual(expect.arrayContaining(['routingKey', 'headersFilter', 'ipAllowlist', 'rateLimit', 'downlink']));
  });
});

describe('httpExclusiveKeys', () => {
  it('claims a configured routing key, and nothing for a generated one', () => {
    expect(httpExclusiveKeys(httpConfigSchema.parse({ routingKey: 'abc' }))).toEqual([{ key: 'abc', path: ['routingKey'], label: 'routing key "abc"' }]);
    expect(httpExclusiveKeys(httpConfigSchema.parse({}))).toEqual([]);
  });
});
