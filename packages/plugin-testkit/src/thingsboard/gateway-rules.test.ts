import { describe, expect, it } from 'vitest';
import { isGatewayPayloadError, parseConnect, parseGatewayAttributes, parseGatewayTelemetry } from './gateway-rules.js';

const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('gateway payload rules (from ThingsBoard AbstractGatewaySessionHandler and JsonConverter)', () => {
  it('reads telemetry of several devices, with and without ts, casting numeric strings and skipping null', () => {
    const parsed = parseGatewayTelemetry(bytes({ A: [{ ts: 5, values: { t: 1, s: '2.5', n: null, j: { x: 1 } } }], B: [{ h: 'on' }] }), 99);
    expect(parsed.get('A')).toEqual([{ ts: 5, values: { t: 1, s: 2.5, j: { json: { x: 1 } } } }]);
    expect(parsed.get('B')).toEqual([{ ts: 99, values: { h: 'on' } }]);
  });

  it.each([
    ['not JSON', '{"A": ['],
    ['a JSON array', [1]],
    ['a device mapped to an object instead of an array', { A: { t: 1 } }],
    ['an entry that is not an object', { A: [1] }],
    ['a non-integer ts', { A: [{ ts: 'soon', values: { t: 1 } }] }],
    ['an integer beyond a Java long', '{"A": [{"ts": 1, "values": {"t": "99999999999999999999"}}]}'],
  ])('refuses telemetry that is %s', (_, payload) => {
    let error: unknown;
    try {
      parseGatewayTelemetry(bytes(payload), 0);
    } catch (e) {
      error = e;
    }
    expect(isGatewayPayloadError(error)).toBe(true);
  });

  it('needs a non-empty device name for connect, and defaults the type to "default"', () => {
    expect(parseConnect(bytes({ device: 'A' }))).toEqual({ device: 'A', type: 'default' });
    expect(parseConnect(bytes({ device: 'A', type: 'meter' }))).toEqual({ device: 'A', type: 'meter' });
    expect(() => parseConnect(bytes({ device: '' }))).toThrow('Device name is empty!');
    expect(() => parseConnect(bytes({ type: 'x' }))).toThrow();
  });

  it('maps each device to an attributes object', () => {
    expect(parseGatewayAttributes(bytes({ A: { fw: '1.0.1', on: true } })).get('A')).toEqual({ fw: '1.0.1', on: true });
    expect(() => parseGatewayAttributes(bytes({ A: [1] }))).toThrow("Can't parse value");
  });
});
