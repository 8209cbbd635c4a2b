import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConverterError } from '@tbi/plugin-api';
import { DEFAULT_MAX_SOURCE_BYTES, loadConverterSource } from './load-source.js';
import { testConverter } from './test-converter.js';

const fixtures = path.resolve(import.meta.dirname, '../test/fixtures');

async function rejection(promise: Promise<unknown>): Promise<ConverterError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConverterError);
  expect((error as ConverterError).kind).toBe('COMPILE');
  return error as ConverterError;
}

describe('loadConverterSource', () => {
  it('takes inline source as is', async () => {
    expect(await loadConverterSource({ inline: 'return [];' }, 'uplink', '/nowhere')).toEqual({ source: 'return [];', origin: 'inline' });
  });

  it('reads a JS file relative to baseDir (BOM removed)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tbi-src-'));
    await writeFile(path.join(dir, 'up.js'), '\uFEFFreturn [];\n');
    expect(await loadConverterSource({ file: 'up.js' }, 'uplink', dir)).toEqual({ source: 'return [];\n', origin: path.join(dir, 'up.js') });
  });

  it('imports an exported ThingsBoard uplink converter unchanged, and it runs', async () => {
    const { source, origin } = await loadConverterSource({ file: 'tb-default-uplink.json' }, 'uplink', fixtures);
    expect(origin).toBe(`${path.join(fixtures, 'tb-default-uplink.json')} (ThingsBoard export "Default uplink converter")`);
    expect(source).toContain('function decodeToString(payload)');
    const report = await testConverter({
      kind: 'uplink',
      source,
      payload: new TextEncoder().encode('hello'),
      metadata: { integrationName: 'MQTT' },
      receivedAt: 5,
    });
    expect(report.error).toBeUndefined();
    expect(report.records).toEqual([
      {
        entityType: 'DEVICE',
        deviceName: 'Device A',
        deviceType: 'thermostat',
        customerName: 'customer',
        groupName: 'thermostat devices',
        attributes: { model: 'Model A', serialNumber: 'SN111', integrationName: 'MQTT' },
        telemetry: [{ ts: 5, values: { temperature: 42, humidity: 80, rawData: 'hello' } }],
      },
    ]);
  });

  it('imports an exported ThingsBoard downlink converter, and it runs', async () => {
    const { source } = await loadConverterSource({ file: path.join(fixtures, 'tb-default-downlink.json') }, 'downlink', '/ignored');
    const report = await testConverter({
      kind: 'downlink',
      source,
      request: {
        msg: { temperatureUploadFrequency: 60, humidityUploadFrequency: 30 },
        metadata: { deviceName: 'A', deviceType: 'thermostat', ss_serialNumber: 'SN1' },
        msgType: 'ATTRIBUTES_UPDATED',
        integrationMetadata: {},
      },
    });
    expect(report.encoded).toEqual({
      contentType: 'JSON',
      data: '{"tempFreq":60,"humFreq":30,"devSerialNumber":"SN1"}',
      metadata: { topic: 'thermostat/A/upload' },
    });
  });

  it('refuses TBEL converters with a clear message', async () => {
    const error = await rejection(loadConverterSource({ file: 'tbel-uplink.json' }, 'uplink', fixtures));
    expect(error.message).toMatch(/written in TBEL \(configuration.scriptLang = "TBEL"\); tbi runs JavaScript converters only/);
    expect(error.context.file).toBe(path.join(fixtures, 'tbel-uplink.json'));
  });

  it('refuses an export of the wrong direction, one without source, and non-exports', async () => {
    expect((await rejection(loadConverterSource({ file: 'tb-default-downlink.json' }, 'uplink', fixtures))).message).toMatch(
      /is of type DOWNLINK, but it is used as the uplink converter/,
    );
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tbi-src-'));
    await writeFile(path.join(dir, 'empty.json'), JSON.stringify({ configuration: { decoder: '' } }));
    await writeFile(path.join(dir, 'plain.json'), JSON.stringify({ hello: 1 }));
    await writeFile(path.join(dir, 'broken.json'), '{ not json');
    expect((await rejection(loadConverterSource({ file: 'empty.json' }, 'uplink', dir))).message).toMatch(/no JavaScript source in configuration.decoder/);
    expect((await rejection(loadConverterSource({ file: 'plain.json' }, 'uplink', dir))).message).toMatch(/no "configuration" object/);
    expect((await rejection(loadConverterSource({ file: 'broken.json' }, 'uplink', dir))).message).toMatch(/is not valid JSON/);
  });

  it('says which file is missing, and needs exactly one of inline/file', async () => {
    expect((await rejection(loadConverterSource({ file: 'nope.js' }, 'downlink', '/tmp'))).message).toBe(
      'cannot read the downlink converter /tmp/nope.js: no such file',
    );
    expect((await rejection(loadConverterSource({}, 'uplink', '/tmp'))).message).toMatch(/exactly one of "inline"/);
    expect((await rejection(loadConverterSource({ inline: 'x', file: 'y' }, 'uplink', '/tmp'))).message).toMatch(/exactly one/);
  });

  it('reads only regular files, up to maxBytes (default 1 MiB), and says why it refuses one', async () => {
    expect((await rejection(loadConverterSource({ file: '/dev/zero' }, 'uplink', '/'))).message).toBe(
      'cannot read the uplink converter /dev/zero: it is not a regular file',
    );
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tbi-src-'));
    await writeFile(path.join(dir, 'big.js'), `return [];${' '.repeat(DEFAULT_MAX_SOURCE_BYTES)}`);
    expect((await rejection(loadConverterSource({ file: 'big.js' }, 'uplink', dir))).message).toBe(
      `the uplink converter ${path.join(dir, 'big.js')} has ${DEFAULT_MAX_SOURCE_BYTES + 10} bytes, more than the limit of ${DEFAULT_MAX_SOURCE_BYTES} (converters.maxSourceBytes)`,
    );
    await writeFile(path.join(dir, 'small.js'), 'return [];');
    expect((await rejection(loadConverterSource({ file: 'small.js' }, 'uplink', dir, { maxBytes: 5 }))).message).toMatch(
      /has 10 bytes, more than the limit of 5/,
    );
    expect((await loadConverterSource({ file: 'small.js' }, 'uplink', dir, { maxBytes: 10 })).source).toBe('return [];');
    expect((await rejection(loadConverterSource({ file: dir }, 'uplink', '/'))).message).toBe(`cannot read the uplink converter ${dir}: it is a directory`);
  });
});
