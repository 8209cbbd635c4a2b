import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findConverterCases } from './find-cases.js';
import { runConverterCases } from './run-cases.js';

const fixtures = path.resolve(import.meta.dirname, '../../test/fixtures');
const UPLINK =
  "var d = decodeToJson(payload); if (!d.serial) throw new Error('no serial'); console.log('seen', d.serial); return {deviceName: d.serial, deviceType: metadata.type || 'sensor', telemetry: {temperature: d.temperature}};";

async function dir(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'tbi-cases-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  return root;
}

describe('runConverterCases', () => {
  it('passes matching uplink cases in every payload form and reports mismatches with the path', async () => {
    const root = await dir({
      'sensor.js': UPLINK,
      'sensor.cases.json': JSON.stringify([
        {
          name: 'text payload',
          payload: '{"serial":"A","temperature":20}',
          expected: [{ entityType: 'DEVICE', deviceName: 'A', deviceType: 'sensor', attributes: {}, telemetry: [{ ts: 0, values: { temperature: 20 } }] }],
        },
        {
          name: 'json payload, converter-style expectation',
          payload: { json: { serial: 'B', temperature: 1 } },
          metadata: { type: 'probe' },
          receivedAt: 99,
          expected: { deviceName: 'B', deviceType: 'probe', telemetry: { temperature: 1 } },
        },
        {
          name: 'base64 payload',
          payload: { base64: Buffer.from('{"serial":"C","temperature":3}').toString('base64') },
          expected: [{ deviceName: 'C', deviceType: 'sensor', telemetry: { temperature: 3 } }],
        },
        {
          name: 'hex payload',
          payload: { hex: Buffer.from('{"serial":"D","temperature":4}').toString('hex') },
          expected: [{ deviceName: 'D', deviceType: 'sensor', telemetry: { temperature: 4 } }],
        },
        { name: 'expected error', payload: '{}', expected: { error: 'no serial' } },
        {
          name: 'wrong value',
          payload: '{"serial":"E","temperature":5}',
          expected: [{ deviceName: 'E', deviceType: 'sensor', telemetry: { temperature: 6 } }],
        },
        { name: 'error expected but succeeded', payload: '{"serial":"F"}', expected: { error: 'boom' } },
        { name: 'broken case', payload: 5, expected: [] },
      ]),
    });
    const report = await runConverterCases(path.join(root, 'sensor.cases.json'));
    expect(report.converter).toBe(path.join(root, 'sensor.js'));
    expect(report.kind).toBe('uplink');
    expect(report.ok).toBe(false);
    expect(report.cases.map((c) => [c.name, c.ok])).toEqual([
      ['text payload', true],
      ['json payload, converter-style expectation', true],
      ['base64 payload', true],
      ['hex payload', true],
      ['expected error', true],
      ['wrong value', false],
      ['error expected but succeeded', false],
      ['broken case', false],
    ]);
    expect(report.cases[0]?.logs).toEqual([{ level: 'log', message: 'seen A' }]);
    expect(report.cases[5]?.message).toBe('[0].telemetry[0].values.temperature: expected number 6, got number 5');
    expect(report.cases[6]?.message).toBe('expected an error containing "boom", but the converter succeeded');
    expect(report.cases[7]?.message).toMatch(/the case is invalid: "payload" must be a string/);
    expect([report.passed, report.failed]).toEqual([5, 3]);
  });

  it('runs downlink cases against a ThingsBoard export, comparing JSON data as JSON', async () => {
    const root = await dir({
      'cases/down.cases.json': JSON.stringify({
        converter: '../down.json',
        cases: [
          {
            name: 'attributes',
            msg: { temperatureUploadFrequency: 60, humidityUploadFrequency: 30 },
            metadata: { deviceName: 'A', deviceType: 'thermostat', ss_serialNumber: 'SN1' },
            expected: { contentType: 'JSON', data: { devSerialNumber: 'SN1', humFreq: 30, tempFreq: 60 }, metadata: { topic: 'thermostat/A/upload' } },
          },
          {
            name: 'wrong topic',
            msg: {},
            metadata: { deviceName: 'B', deviceType: 't' },
            expected: { contentType: 'JSON', data: '{}', metadata: { topic: 'x' } },
          },
        ],
      }),
    });
    await cp(path.join(fixtures, 'tb-default-downlink.json'), path.join(root, 'down.json'));
    const report = await runConverterCases(path.join(root, 'cases/down.cases.json'));
    expect(report.kind).toBe('downlink');
    expect(report.cases.map((c) => c.ok)).toEqual([true, false]);
    expect(report.cases[1]?.message).toBe('metadata.topic: expected the string "x", got the string "t/B/upload"');
  });

  it('reports a converter that does not compile, and a case file without a converter', async () => {
    const root = await dir({ 'bad.js': 'return {', 'bad.cases.json': '[]', 'lonely.cases.json': '[]', 'junk.cases.json': '{' });
    const bad = await runConverterCases(path.join(root, 'bad.cases.json'));
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatch(/does not compile/);
    expect((await runConverterCases(path.join(root, 'lonely.cases.json'))).error).toMatch(/no converter beside it: expected lonely.js or lonely.json/);
    expect((await runConverterCases(path.join(root, 'junk.cases.json'))).error).toMatch(/cannot read the case file/);
  });
});

describe('findConverterCases', () => {
  it('finds case files recursively, skipping node_modules and dot-folders', async () => {
    const root = await dir({
      'a.cases.json': '[]',
      'sub/b.cases.json': '[]',
      'node_modules/x/c.cases.json': '[]',
      '.hidden/d.cases.json': '[]',
      'e.json': '{}',
    });
    expect(await findConverterCases(root)).toEqual([path.join(root, 'a.cases.json'), path.join(root, 'sub/b.cases.json')]);
  });
});
