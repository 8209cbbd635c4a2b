import { describe, expect, it } from 'vitest';
import { normaliseUplinkOutput } from './normalise-uplink.js';

const AT = 1_700_000_000_000;

function records(output: unknown) {
  const result = normaliseUplinkOutput(output, AT);
  if (!result.ok) throw new Error(`unexpected failure: ${result.error.message}`);
  return result.records;
}

function failure(output: unknown) {
  const result = normaliseUplinkOutput(output, AT);
  if (result.ok) throw new Error('expected a failure');
  expect(result.error.kind).toBe('INVALID_OUTPUT');
  return result.error;
}

describe('normaliseUplinkOutput: every valid shape', () => {
  it('a single device with flat telemetry gets receivedAt', () => {
    expect(records({ deviceName: 'A', deviceType: 'T', telemetry: { t: 21.5, on: true, label: 'x', none: null } })).toEqual([
      {
        entityType: 'DEVICE',
        deviceName: 'A',
        deviceType: 'T',
        attributes: {},
        telemetry: [{ ts: AT, values: { t: 21.5, on: true, label: 'x', none: null } }],
      },
    ]);
  });

  it('telemetry as {ts, values}', () => {
    expect(records({ deviceName: 'A', deviceType: 'T', telemetry: { ts: 1000, values: { t: 1 } } })[0]?.telemetry).toEqual([{ ts: 1000, values: { t: 1 } }]);
  });

  it('telemetry as an array of {ts, values}, ts optional, string ts accepted, fractions truncated', () => {
    const telemetry = records({
      deviceName: 'A',
      deviceType: 'T',
      telemetry: [{ ts: 1000, values: { t: 1 } }, { values: { t: 2 } }, { ts: '3000', values: { t: 3 } }, { ts: 4000.7, values: {} }],
    })[0]?.telemetry;
    expect(telemetry).toEqual([
      { ts: 1000, values: { t: 1 } },
      { ts: AT, values: { t: 2 } },
      { ts: 3000, values: { t: 3 } },
      { ts: 4000, values: {} },
    ]);
  });

  it('{values} without ts gets receivedAt; empty flat telemetry gives no sample', () => {
    expect(records({ deviceName: 'A', deviceType: 'T', telemetry: { values: { t: 1 } } })[0]?.telemetry).toEqual([{ ts: AT, values: { t: 1 } }]);
    expect(records({ deviceName: 'A', deviceType: 'T', telemetry: {} })[0]?.telemetry).toEqual([]);
  });

  it('an array of results, attributes, customer and group, assets', () => {
    expect(
      records([
        { deviceName: 'A', deviceType: 'T', customerName: 'C', groupName: 'G', attributes: { model: 'M', fw: 2 } },
        { assetName: 'Building 1', assetType: 'building', telemetry: { occupancy: 12 } },
      ]),
    ).toEqual([
      { entityType: 'DEVICE', deviceName: 'A', deviceType: 'T', customerName: 'C', groupName: 'G', attributes: { model: 'M', fw: 2 }, telemetry: [] },
      { entityType: 'ASSET', deviceName: 'Building 1', deviceType: 'building', attributes: {}, telemetry: [{ ts: AT, values: { occupancy: 12 } }] },
    ]);
  });

  it('an empty array means no data; numbers as names become strings; null optional fields are absent', () => {
    expect(records([])).toEqual([]);
    expect(records({ deviceName: 12345, deviceType: 'T', customerName: null, groupName: '', attributes: null, telemetry: null })).toEqual([
      { entityType: 'DEVICE', deviceName: '12345', deviceType: 'T', attributes: {}, telemetry: [] },
    ]);
  });

  it('rpcReply (one or an array) becomes rpcReplies', () => {
    expect(records({ deviceName: 'A', deviceType: 'T', rpcReply: { requestId: 7, response: { ok: true } } })[0]?.rpcReplies).toEqual([
      { requestId: '7', response: { ok: true } },
    ]);
    expect(records({ deviceName: 'A', deviceType: 'T', rpcReply: [{ requestId: 'a' }, { requestId: 'b', response: 1 }] })[0]?.rpcReplies).toEqual([
      { requestId: 'a', response: null },
      { requestId: 'b', response: 1 },
    ]);
  });

  it('accepts names and keys of exactly 255 characters, counted as characters, not UTF-16 units', () => {
    const name = 'n'.repeat(255);
    const emoji = '🌡'.repeat(255); // 510 UTF-16 units, 255 characters
    const [record] = records({
      deviceName: name,
      deviceType: emoji,
      customerName: name,
      groupName: name,
      attributes: { [name]: 1 },
      telemetry: { [emoji]: 2 },
    });
    expect(record).toMatchObject({ deviceName: name, deviceType: emoji, customerName: name, groupName: name, attributes: { [name]: 1 } });
    expect(record?.telemetry[0]?.values).toEqual({ [emoji]: 2 });
  });

  it('ignores fields it does not know (as ThingsBoard does)', () => {
    expect(records({ deviceName: 'A', deviceType: 'T', updateOnlyKeys: ['x'] })[0]).not.toHaveProperty('updateOnlyKeys');
  });
});

describe('normaliseUplinkOutput: every invalid shape names the field', () => {
  const cases: [string, unknown, string | undefined, RegExp][] = [
    ['undefined', undefined, undefined, /returned nothing/],
    ['null', null, undefined, /returned nothing/],
    ['a string', 'hello', undefined, /expected a result object or an array of them, received the string "hello"/],
    ['a number', 42, undefined, /received number 42/],
    ['an array item that is not an object', [{ deviceName: 'A', deviceType: 'T' }, 7], '[1]', /expected a result object/],
    ['no name at all', { telemetry: { t: 1 } }, 'deviceName', /missing: a result needs deviceName and deviceType/],
    ['device and asset', { deviceName: 'A', deviceType: 'T', assetName: 'B', assetType: 'U' }, undefined, /either a device or an asset/],
    ['deviceType missing', [{ deviceName: 'A' }], '[0].deviceType', /missing: expected a non-empty string/],
    ['assetType missing', { assetName: 'A' }, 'assetType', /missing/],
    ['empty deviceName', { deviceName: '  ', deviceType: 'T' }, 'deviceName', /received an empty string/],
    ['object deviceName', { deviceName: { a: 1 }, deviceType: 'T' }, 'deviceName', /received an object/],
    ['boolean customerName', { deviceName: 'A', deviceType: 'T', customerName: true }, 'customerName', /received boolean true/],
    [
      'attributes as an array',
      { deviceName: 'A', deviceType: 'T', attributes: [1] },
      'attributes',
      /expected an object of key\/values, received an array of 1/,
    ],
    [
      'nested attribute',
      [
        { deviceName: 'A', deviceType: 'T' },
        { deviceName: 'B', deviceType: 'T', attributes: { pos: { lat: 1 } } },
      ],
      '[1].attributes.pos',
      /nested values are not stored/,
    ],
    ['__proto__ attribute', JSON.parse('{"deviceName":"A","deviceType":"T","attributes":{"__proto__":{"polluted":1}}}'), 'attributes.__proto__', /not allowed/],
    ['empty key', { deviceName: 'A', deviceType: 'T', attributes: { '': 1 } }, 'attributes[""]', /must not be empty/],
    ['odd key in path', { deviceName: 'A', deviceType: 'T', telemetry: { 'a b': [1] } }, 'telemetry["a b"]', /received an array of 1/],
    ['NaN value', { deviceName: 'A', deviceType: 'T', telemetry: { t: Number.NaN } }, 'telemetry.t', /finite number/],
    ['telemetry as a string', { deviceName: 'A', deviceType: 'T', telemetry: 'x' }, 'telemetry', /flat object, \{ts, values\} or an array/],
    ['ts without values', { deviceName: 'A', deviceType: 'T', telemetry: { ts: 1 } }, 'telemetry.values', /needs "values"/],
    [
      'array item without values',
      [
        { deviceName: 'A', deviceType: 'T' },
        { deviceName: 'B', deviceType: 'T', telemetry: [{ ts: 1, values: {} }, { t: 1 }] },
      ],
      '[1].telemetry[1].values',
      /holds \{ts, values\}/,
    ],
    ['array item not an object', { deviceName: 'A', deviceType: 'T', telemetry: [5] }, 'telemetry[0]', /expected \{ts, values\}, received number 5/],
    [
      'bad ts',
      [
        { deviceName: 'A', deviceType: 'T' },
        { deviceName: 'B', deviceType: 'T', telemetry: [{ ts: 'yesterday', values: {} }] },
      ],
      '[1].telemetry[0].ts',
      /epoch milliseconds/,
    ],
    ['negative ts', { deviceName: 'A', deviceType: 'T', telemetry: { ts: -5, values: { t: 1 } } }, 'telemetry.ts', /epoch milliseconds/],
    ['values not an object', { deviceName: 'A', deviceType: 'T', telemetry: { ts: 1, values: 3 } }, 'telemetry.values', /expected an object of key\/values/],
    ['rpcReply without id', { deviceName: 'A', deviceType: 'T', rpcReply: { response: 1 } }, 'rpcReply.requestId', /request id/],
    ['rpcReply item not an object', { deviceName: 'A', deviceType: 'T', rpcReply: [1] }, 'rpcReply[0]', /expected \{requestId, response\}/],
    [
      'rpcReplies instead of rpcReply',
      { deviceName: 'A', deviceType: 'T', rpcReplies: [{ requestId: '1' }] },
      'rpcReplies',
      /^rpcReplies: unknown field rpcReplies — did you mean rpcReply\?$/,
    ],
    ['rpcResponse instead of rpcReply', [{ deviceName: 'A', deviceType: 'T', rpcResponse: {} }], '[0].rpcResponse', /did you mean rpcReply\?/],
    [
      'a 100 kB deviceName',
      { deviceName: 'd'.repeat(100_000), deviceType: 'T' },
      'deviceName',
      /^deviceName: too long: 100000 characters, at most 255 \(ThingsBoard's limit for names\), received the string "d{40}…"$/,
    ],
    ['a 256-character deviceType', { deviceName: 'A', deviceType: 't'.repeat(256) }, 'deviceType', /too long: 256 characters, at most 255/],
    ['a long assetName', { assetName: 'a'.repeat(300), assetType: 'T' }, 'assetName', /too long: 300 characters/],
    ['a long customerName', { deviceName: 'A', deviceType: 'T', customerName: 'c'.repeat(256) }, 'customerName', /too long/],
    ['a long groupName', { deviceName: 'A', deviceType: 'T', groupName: 'g'.repeat(256) }, 'groupName', /too long/],
    [
      'a long telemetry key',
      { deviceName: 'A', deviceType: 'T', telemetry: { ['k'.repeat(256)]: 1 } },
      `telemetry["${'k'.repeat(40)}…"]`,
      /key too long: 256 characters, at most 255$/,
    ],
    [
      'a long attribute key',
      { deviceName: 'A', deviceType: 'T', attributes: { ['k'.repeat(100_000)]: 1 } },
      `attributes["${'k'.repeat(40)}…"]`,
      /key too long: 100000 characters/,
    ],
    [
      'a long key in a sample',
      { deviceName: 'A', deviceType: 'T', telemetry: [{ ts: 1, values: { ['x'.repeat(300)]: 1 } }] },
      `telemetry[0].values["${'x'.repeat(40)}…"]`,
      /key too long/,
    ],
  ];

  for (const [label, output, path, message] of cases) {
    it(label, () => {
      const error = failure(output);
      expect(error.path).toBe(path);
      expect(error.message).toMatch(message);
      if (path !== undefined) expect(error.message.startsWith(`${path}: `)).toBe(true);
    });
  }

  it('never pollutes a prototype', () => {
    failure(JSON.parse('{"deviceName":"A","deviceType":"T","telemetry":{"__proto__":{"polluted":1}}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
