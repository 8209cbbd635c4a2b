import { describe, expect, it } from 'vitest';
import { createConverterSandbox } from '../index.js';
import { evalInSandbox, utf8 } from '../../test/support.js';

// Every helper runs inside a real isolate here: that is where converters call them.

describe('decodeToString / decodeToJson (UTF-8, inside the isolate)', () => {
  it('decodes known byte vectors like TextDecoder', async () => {
    const out = await evalInSandbox(
      `{
      ascii: decodeToString([0x48, 0x69]),
      empty: decodeToString([]),
      multi: decodeToString(${JSON.stringify([...utf8('héllo € 𝄞 日本')])}),
      signed: decodeToString([-61, -87]),
      lone: decodeToString([0xc3]),
      truncated3: decodeToString([0xe2, 0x82]),
      truncated4: decodeToString([0xf0, 0x9f, 0x98, 0x41]),
      surrogate: decodeToString([0xed, 0xa0, 0x80]),
      overlong: decodeToString([0xc0, 0xaf]),
      badCont: decodeToString([0xe2, 0x28, 0xa1]),
      tooHigh: decodeToString([0xf4, 0x90, 0x80, 0x80]),
      payloadJson: decodeToJson(payload),
      stringJson: decodeToJson('{"a":[1,2]}'),
      alias: bytesToString([0x6f, 0x6b]),
    }`,
      utf8('{"temperature":21.5,"name":"Küche"}'),
    );
    expect(out).toEqual({
      ascii: 'Hi',
      empty: '',
      multi: 'héllo € 𝄞 日本',
      signed: 'é',
      lone: '\uFFFD',
      truncated3: '\uFFFD',
      truncated4: '\uFFFDA',
      surrogate: '\uFFFD\uFFFD\uFFFD',
      overlong: '\uFFFD\uFFFD',
      badCont: '\uFFFD(\uFFFD',
      tooHigh: '\uFFFD\uFFFD\uFFFD\uFFFD',
      payloadJson: { temperature: 21.5, name: 'Küche' },
      stringJson: { a: [1, 2] },
      alias: 'ok',
    });
    const decoder = new TextDecoder();
    expect((out as Record<string, string>).tooHigh).toBe(decoder.decode(new Uint8Array([0xf4, 0x90, 0x80, 0x80])));
    expect((out as Record<string, string>).badCont).toBe(decoder.decode(new Uint8Array([0xe2, 0x28, 0xa1])));
  });

  it('matches TextDecoder on 400 random byte strings (one batch)', async () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const samples = Array.from({ length: 400 }, () => {
      const length = Math.floor(random() * 24);
      // Mostly high bytes, to hit every branch of the decoder.
      return new Uint8Array(Array.from({ length }, () => (random() < 0.7 ? 0x80 + Math.floor(random() * 0x80) : Math.floor(random() * 0x80))));
    });
    const sandbox = createConverterSandbox({ poolSize: 1 });
    try {
      const converter = await sandbox.uplink('fuzz', "return {deviceName: 'd', deviceType: 't', attributes: {text: decodeToString(payload)}};", {
        timeoutMs: 5000,
      });
      const results = await converter.run(samples.map((payload) => ({ payload, metadata: {} })));
      const decoder = new TextDecoder();
      results.forEach((result, i) => {
        expect(result.ok).toBe(true);
        if (result.ok) expect(result.records[0]?.attributes.text).toBe(decoder.decode(samples[i]));
      });
    } finally {
      await sandbox.dispose();
    }
  });

  it('handles payloads longer than one fromCharCode chunk', async () => {
    const ascii = `${'a'.repeat(20_000)}z`;
    const mixed = `${'ж'.repeat(10_000)}!`;
    const out = (await evalInSandbox(`[decodeToString(payload), decodeToString(${JSON.stringify([...utf8(mixed)])})]`, utf8(ascii))) as string[];
    expect(out[0]).toBe(ascii);
    expect(out[1]).toBe(mixed);
  });

  it('stringToBytes encodes UTF-8 and round-trips', async () => {
    const out = await evalInSandbox(`[stringToBytes('aé€𝄞'), decodeToString(stringToBytes('Grüße 🌍')), stringToBytes('\\ud800')]`);
    expect(out).toEqual([[...utf8('aé€𝄞')], 'Grüße 🌍', [0xef, 0xbf, 0xbd]]);
  });
});

describe('Base64 and hex helpers', () => {
  it('btoa / atob follow the browser functions', async () => {
    const out = await evalInSandbox(`{
      b: btoa('Hello'), a: atob('SGVsbG8='), loose: atob(' SGVs\\nbG8 '), unpadded: atob('SGVsbG8'),
      latin1: atob(btoa('\\u00ff\\u0000')),
      wide: (function () { try { btoa('€'); return 'no error'; } catch (e) { return e.message; } })(),
      bad: (function () { try { atob('@@@@'); return 'no error'; } catch (e) { return e.message; } })(),
    }`);
    expect(out).toEqual({
      b: 'SGVsbG8=',
      a: 'Hello',
      loose: 'Hello',
      unpadded: 'Hello',
      latin1: '\u00ff\u0000',
      wide: 'btoa: the string contains characters outside of the Latin1 range',
      bad: 'atob: the string is not valid Base64 (character 1)',
    });
  });

  it('base64ToBytes / bytesToBase64 / bytesToHex / hexToBytes on known vectors', async () => {
    const out = await evalInSandbox(`{
      toBytes: base64ToBytes('AQID/w=='), fromBytes: bytesToBase64([1, 2, 3, 255]),
      one: bytesToBase64([0xff]), two: bytesToBase64([0xff, 0xfe]), none: bytesToBase64([]),
      signed: bytesToBase64([-1]), hex: bytesToHex([0x01, 0xab, 0xff, -1]),
      fromHex: hexToBytes('01abFF'), prefixed: hexToBytes('0x0102'),
      odd: (function () { try { hexToBytes('abc'); } catch (e) { return e.message; } })(),
      notHex: (function () { try { hexToBytes('zz'); } catch (e) { return e.message; } })(),
      roundTrip: bytesToHex(base64ToBytes(bytesToBase64(hexToBytes('00112233445566778899AABBCCDDEEFF')))),
    }`);
    expect(out).toEqual({
      toBytes: [1, 2, 3, 255],
      fromBytes: 'AQID/w==',
      one: '/w==',
      two: '//4=',
      none: '',
      signed: '/w==',
      hex: '01ABFFFF',
      fromHex: [1, 171, 255],
      prefixed: [1, 2],
      odd: 'hexToBytes: the hex string must have an even length',
      notHex: 'hexToBytes: "zz" is not a hex byte',
      roundTrip: '00112233445566778899AABBCCDDEEFF',
    });
    expect(Buffer.from([1, 2, 3, 255]).toString('base64')).toBe('AQID/w==');
  });
});

describe('parseBytesToInt', () => {
  it('reads big- and little-endian integers like ThingsBoard', async () => {
    const out = await evalInSandbox(`[
      parseBytesToInt([0x01, 0x02, 0x03, 0x04], 0, 4, true),
      parseBytesToInt([0x01, 0x02, 0x03, 0x04], 0, 4, false),
      parseBytesToInt([0xff, 0xff, 0xff, 0xff], 0, 4, true),
      parseBytesToInt([0xff, 0xff], 0, 2, true),
      parseBytesToInt([0x00, 0x00, 0x01, 0x00]),
      parseBytesToInt([0x00, 0x12, 0x34, 0x00], 1, 2, true),
      parseBytesToInt([0x00, 0x12, 0x34, 0x00], 1, 2, false),
      parseBytesToInt([0x80, 0x00, 0x00, 0x00], 0, 4),
      parseBytesToInt([0x07], 0, 1),
      parseBytesToInt([0x01, 0x02, 0x03], 1),
    ]`);
    expect(out).toEqual([16909060, 67305985, -1, 65535, 256, 4660, 13330, -2147483648, 7, 0x0203]);
  });

  it('refuses lengths over 4 and ranges past the end', async () => {
    const out = await evalInSandbox(`[
      (function () { try { parseBytesToInt([1, 2, 3, 4, 5], 0, 5); } catch (e) { return e.name + ': ' + e.message; } })(),
      (function () { try { parseBytesToInt([1, 2], 1, 2); } catch (e) { return e.name + ': ' + e.message; } })(),
    ]`);
    expect(out).toEqual([
      'RangeError: parseBytesToInt: length must be 1 to 4 bytes, got 5',
      'RangeError: parseBytesToInt: offset 1 + length 2 is past the end of the 2 bytes',
    ]);
  });
});

describe('toFixed', () => {
  it('rounds half up on the decimal value and returns a number', async () => {
    const out = await evalInSandbox(`[
      toFixed(1.005, 2), toFixed(2.345, 2), toFixed(-2.5, 0), toFixed(21.456789, 1), toFixed(1.23456e-7, 8),
      toFixed(9.995, 2), toFixed(123, 2), toFixed(0.5), toFixed(1e21, 2), isNaN(toFixed(NaN, 2)), toFixed(-0.0049, 2),
      toFixed('3.14159', 3), typeof toFixed(1.5, 0),
    ]`);
    expect(out).toEqual([1.01, 2.35, -3, 21.5, 1.2e-7, 10, 123, 1, 1e21, true, 0, 3.142, 'number']);
  });
});

describe('helpers on the global object', () => {
  it('cannot be replaced by a converter, so every message sees the real ones', async () => {
    const sandbox = createConverterSandbox({ poolSize: 1 });
    try {
      const converter = await sandbox.uplink(
        'tamper',
        "decodeToJson = function () { return {id: 'evil'}; }; globalThis.decodeToString = null; var d = decodeToJson(payload); return {deviceName: d.id, deviceType: 't'};",
      );
      const results = await converter.run([
        { payload: utf8('{"id":"a"}'), metadata: {} },
        { payload: utf8('{"id":"b"}'), metadata: {} },
      ]);
      expect(results.map((r) => (r.ok ? r.records[0]?.deviceName : r.error.message))).toEqual(['a', 'b']);
    } finally {
      await sandbox.dispose();
    }
  });
});
