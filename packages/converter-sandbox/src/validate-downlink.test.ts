import { describe, expect, it } from 'vitest';
import { validateDownlinkOutput } from './validate-downlink.js';

function encoded(output: unknown) {
  const result = validateDownlinkOutput(output);
  if (!result.ok) throw new Error(`unexpected failure: ${result.error.message}`);
  return result.encoded;
}

describe('validateDownlinkOutput: valid shapes', () => {
  it('JSON with a stringified body (the ThingsBoard way)', () => {
    expect(encoded({ contentType: 'JSON', data: '{"on":true}', metadata: { topic: 'dev/A' } })).toEqual({
      contentType: 'JSON',
      data: '{"on":true}',
      metadata: { topic: 'dev/A' },
    });
  });

  it('JSON with an object, array, number or null body is stringified', () => {
    expect(encoded({ contentType: 'JSON', data: { on: true } }).data).toBe('{"on":true}');
    expect(encoded({ contentType: 'JSON', data: [1, 2] }).data).toBe('[1,2]');
    expect(encoded({ contentType: 'JSON', data: 5 }).data).toBe('5');
    expect(encoded({ contentType: 'JSON', data: null }).data).toBe('null');
  });

  it('TEXT, BINARY (Base64, whitespace removed), metadata defaults and stringified scalars', () => {
    expect(encoded({ contentType: 'TEXT', data: 'ON' })).toEqual({ contentType: 'TEXT', data: 'ON', metadata: {} });
    expect(encoded({ contentType: 'BINARY', data: 'AQID\n/w==', metadata: { key: 'k', qos: 1, retain: false, skip: null } })).toEqual({
      contentType: 'BINARY',
      data: 'AQID/w==',
      metadata: { key: 'k', qos: '1', retain: 'false' },
    });
    expect(encoded({ contentType: 'BINARY', data: '' }).data).toBe('');
  });
});

describe('validateDownlinkOutput: invalid shapes', () => {
  const cases: [string, unknown, string | undefined, RegExp][] = [
    ['nothing', undefined, undefined, /returned nothing/],
    ['null', null, undefined, /returned nothing/],
    ['a string', 'ON', undefined, /expected \{contentType, data, metadata\}, received the string "ON"/],
    ['an array', [{ contentType: 'TEXT', data: 'x' }], undefined, /received an array of 1/],
    ['no contentType', { data: 'x' }, 'contentType', /expected "JSON", "TEXT" or "BINARY", received nothing/],
    ['lower-case contentType', { contentType: 'json', data: 'x' }, 'contentType', /received the string "json"/],
    ['TEXT with an object', { contentType: 'TEXT', data: { a: 1 } }, 'data', /expected a string, received an object/],
    ['TEXT without data', { contentType: 'TEXT' }, 'data', /received nothing/],
    ['JSON without data', { contentType: 'JSON' }, 'data', /a string or a JSON value/],
    ['BINARY that is not Base64', { contentType: 'BINARY', data: 'not base64!' }, 'data', /expected Base64/],
    ['BINARY as bytes', { contentType: 'BINARY', data: [1, 2] }, 'data', /a Base64 string, received an array of 2/],
    ['metadata as a string', { contentType: 'TEXT', data: 'x', metadata: 'topic' }, 'metadata', /object of string values/],
    [
      'metadata with an object value',
      { contentType: 'TEXT', data: 'x', metadata: { topic: { a: 1 } } },
      'metadata.topic',
      /expected a string, received an object/,
    ],
    ['metadata with an odd key', { contentType: 'TEXT', data: 'x', metadata: { 'a-b': [] } }, 'metadata["a-b"]', /received an array/],
    ['metadata __proto__', JSON.parse('{"contentType":"TEXT","data":"x","metadata":{"__proto__":"y"}}'), 'metadata.__proto__', /not allowed/],
  ];
  for (const [label, output, path, message] of cases) {
    it(label, () => {
      const result = validateDownlinkOutput(output);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.kind).toBe('INVALID_OUTPUT');
      expect(result.error.path).toBe(path);
      expect(result.error.message).toMatch(message);
    });
  }
});
