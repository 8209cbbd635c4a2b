import { describe, expect, it } from 'vitest';
import { testConverter } from './test-converter.js';
import { utf8 } from '../test/support.js';

describe('testConverter', () => {
  it('shows the script output, the normalised records, logs and the time', async () => {
    const report = await testConverter({
      kind: 'uplink',
      source:
        "var d = decodeToJson(payload); console.log('topic', metadata.topic); return {deviceName: d.serial, deviceType: 'sensor', telemetry: {temperature: d.temperature}};",
      payload: utf8('{"serial":"SN-1","temperature":21.5}'),
      metadata: { topic: 'sensors/SN-1' },
      receivedAt: 1000,
    });
    expect(report).toMatchObject({
      ok: true,
      output: { deviceName: 'SN-1', deviceType: 'sensor', telemetry: { temperature: 21.5 } },
      records: [{ entityType: 'DEVICE', deviceName: 'SN-1', deviceType: 'sensor', attributes: {}, telemetry: [{ ts: 1000, values: { temperature: 21.5 } }] }],
      logs: [{ level: 'log', message: 'topic sensors/SN-1' }],
    });
    expect(report.durationMs).toBeGreaterThan(0);
  });

  it('returns the output even when it is invalid, with the error', async () => {
    const report = await testConverter({ kind: 'uplink', source: "return {deviceName: 'a'};" });
    expect(report.ok).toBe(false);
    expect(report.output).toEqual({ deviceName: 'a' });
    expect(report.error).toEqual({ kind: 'INVALID_OUTPUT', path: 'deviceType', message: 'deviceType: missing: expected a non-empty string' });
  });

  it('reports compile errors, exceptions and timeouts without throwing', async () => {
    expect((await testConverter({ kind: 'uplink', source: 'return (' })).error?.kind).toBe('COMPILE');
    expect((await testConverter({ kind: 'uplink', source: "throw new Error('nope');" })).error).toEqual({
      kind: 'THREW',
      message: 'Error: nope (line 1, column 7)',
    });
    expect((await testConverter({ kind: 'downlink', source: 'for (;;) {}', limits: { timeoutMs: 50 } })).error?.kind).toBe('TIMEOUT');
  });

  it('runs a downlink with a default request', async () => {
    const report = await testConverter({ kind: 'downlink', source: "return {contentType: 'TEXT', data: msgType + ':' + JSON.stringify(msg)};" });
    expect(report).toMatchObject({
      ok: true,
      output: { contentType: 'TEXT', data: 'ATTRIBUTES_UPDATED:{}' },
      encoded: { contentType: 'TEXT', data: 'ATTRIBUTES_UPDATED:{}', metadata: {} },
    });
  });
});
