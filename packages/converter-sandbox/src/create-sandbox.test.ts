import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ConverterError, type UplinkResult } from '@tbi/plugin-api';
import { createConverterSandbox } from './create-sandbox.js';
import { utf8 } from '../test/support.js';

const sandbox = createConverterSandbox({ poolSize: 2, clock: () => 42 });
afterAll(() => sandbox.dispose());

const msg = (payload: string, metadata: Record<string, string> = {}) => ({ payload: utf8(payload), metadata });
const summary = (r: UplinkResult) => (r.ok ? `ok:${r.records.map((x) => x.deviceName).join(',')}` : `${r.error.kind}`);

const ECHO = "var d = decodeToJson(payload); return {deviceName: String(d.id), deviceType: 't', telemetry: {v: d.v}};";

describe('batches', () => {
  it('converts a batch in order; a message that throws fails alone, with the line', async () => {
    const c = await sandbox.uplink('echo', ECHO);
    const results = await c.run([msg('{"id":1,"v":1}'), msg('not json'), msg('{"id":3,"v":3}')]);
    expect(results.map(summary)).toEqual(['ok:1', 'THREW', 'ok:3']);
    const bad = results[1];
    expect(bad?.ok === false && bad.error.message).toMatch(/^SyntaxError: .*not valid JSON \(line 1, column 9\)$/);
    expect(results[0]?.ok && results[0].records[0]?.telemetry).toEqual([{ ts: 42, values: { v: 1 } }]);
    expect(results[0]?.ok && results[0].output).toEqual({ deviceName: '1', deviceType: 't', telemetry: { v: 1 } });
  });

  it('keeps receivedAt when given', async () => {
    const c = await sandbox.uplink('echo-at', ECHO);
    const [r] = await c.run([{ ...msg('{"id":1,"v":2}'), receivedAt: 7 }]);
    expect(r?.ok && r.records[0]?.telemetry[0]?.ts).toBe(7);
  });

  it('splits large batches across the pool and keeps the order', async () => {
    const c = await sandbox.uplink('order', "return {deviceName: metadata.i, deviceType: 't'};");
    const inputs = Array.from({ length: 500 }, (_, i) => msg('', { i: String(i) }));
    const results = await c.run(inputs);
    expect(results.map((r) => (r.ok ? r.records[0]?.deviceName : 'x'))).toEqual(inputs.map((_, i) => String(i)));
  });

  it('captures console output per message, bounded in lines and length', async () => {
    const c = await sandbox.uplink(
      'chatty',
      "if (metadata.many) { for (var i = 0; i < 60; i++) console.log('line', i); } else { console.warn('x'.repeat(5000)); console.error(new TypeError('boom'), {a: 1}, [1], undefined, null); console.info(Symbol('s')); } return [];",
    );
    const [many, long] = await c.run([msg('', { many: '1' }), msg('')]);
    expect(many?.logs).toHaveLength(51);
    expect(many?.logs[0]).toEqual({ level: 'log', message: 'line 0' });
    expect(many?.logs[50]).toEqual({ level: 'warn', message: '[tbi] 10 more console lines dropped (at most 50 per message)' });
    expect(long?.logs[0]?.level).toBe('warn');
    expect(long?.logs[0]?.message).toHaveLength(1024);
    expect(long?.logs[0]?.message.endsWith('…')).toBe(true);
    expect(long?.logs[1]).toEqual({ level: 'error', message: 'TypeError: boom {"a":1} [1] undefined null' });
    expect(long?.logs[2]).toEqual({ level: 'info', message: 'Symbol(s)' });
  });

  it('an infinite loop in a batch fails only that message with TIMEOUT', async () => {
    const c = await sandbox.uplink('loop', "if (metadata.loop) { while (true) {} } return {deviceName: metadata.i, deviceType: 't'};", { timeoutMs: 100 });
    const results = await c.run([msg('', { i: '0' }), msg('', { i: '1' }), msg('', { i: '2', loop: '1' }), msg('', { i: '3' }), msg('', { i: '4' })]);
    expect(results.map(summary)).toEqual(['ok:0', 'ok:1', 'TIMEOUT', 'ok:3', 'ok:4']);
    const timeout = results[2];
    expect(timeout?.ok === false && timeout.error.message).toMatch(/ran longer than its limit of 100 ms on this message/);
    // The converter works after its isolate was rebuilt.
    expect((await c.run([msg('', { i: '9' })])).map(summary)).toEqual(['ok:9']);
  });

  it('a batch that is slow as a whole (each message fast enough) still converts every message', async () => {
    const c = await sandbox.uplink('slow', "var end = Date.now() + 40; while (Date.now() < end) {} return {deviceName: metadata.i, deviceType: 't'};", {
      timeoutMs: 200,
    });
    const results = await c.run(Array.from({ length: 10 }, (_, i) => msg('', { i: String(i) })));
    expect(results.map(summary)).toEqual(Array.from({ length: 10 }, (_, i) => `ok:${i}`));
  });

  it('running out of memory fails only that message with MEMORY', async () => {
    const c = await sandbox.uplink(
      'hog',
      "if (metadata.hog) { var a = []; while (true) a.push('x'.repeat(64) + a.length); } return {deviceName: metadata.i, deviceType: 't'};",
      { memoryMb: 16, timeoutMs: 10_000 },
    );
    const results = await c.run([msg('', { i: '0' }), msg('', { i: '1', hog: '1' }), msg('', { i: '2' })]);
    expect(results.map(summary)).toEqual(['ok:0', 'MEMORY', 'ok:2']);
    expect(results[1]?.ok === false && results[1].error.message).toMatch(/more than its limit of 16 MiB/);
  });

  it('promise jobs that loop after the message returned fail that message only', async () => {
    const c = await sandbox.uplink(
      'late',
      "if (metadata.late) Promise.resolve().then(function () { while (true) {} }); return {deviceName: metadata.i, deviceType: 't'};",
      { timeoutMs: 100 },
    );
    const results = await c.run([msg('', { i: '0' }), msg('', { i: '1', late: '1' }), msg('', { i: '2' })]);
    expect(results.map(summary)).toEqual(['ok:0', 'TIMEOUT', 'ok:2']);
  });

  it('reports invalid output per message with the path', async () => {
    const c = await sandbox.uplink(
      'shapes',
      "return metadata.bad ? [{deviceName: 'a', deviceType: 't'}, {deviceName: 'b', deviceType: 't', telemetry: [{ts: 'x', values: {}}]}] : [];",
    );
    const [good, bad] = await c.run([msg(''), msg('', { bad: '1' })]);
    expect(good).toEqual({ ok: true, records: [], output: [], logs: [] });
    expect(bad?.ok === false && bad.error).toEqual({
      kind: 'INVALID_OUTPUT',
      path: '[1].telemetry[0].ts',
      message: '[1].telemetry[0].ts: expected epoch milliseconds (a number >= 0), received the string "x"',
    });
  });

  it('says so when a converter returns a Promise or something too large', async () => {
    const c = await sandbox.uplink(
      'odd',
      "if (metadata.big) return {deviceName: 'a', deviceType: 't', attributes: {s: 'x'.repeat(5 * 1024 * 1024)}}; return (async function () { return []; })();",
      { timeoutMs: 5000 },
    );
    const [promise, big] = await c.run([msg(''), msg('', { big: '1' })]);
    expect(promise?.ok === false && promise.error.message).toMatch(/returned a Promise: converters run synchronously/);
    expect(big?.ok === false && big.error.message).toMatch(/more than the limit of 4194304/);
  });

  it('another converter is unaffected while one loops', async () => {
    const looping = await sandbox.uplink('busy', 'while (true) {}', { timeoutMs: 300 });
    const normal = await sandbox.uplink('normal', ECHO);
    const [stuck, fine] = await Promise.all([looping.run([msg('')]), normal.run([msg('{"id":5,"v":1}')])]);
    expect(stuck.map(summary)).toEqual(['TIMEOUT']);
    expect(fine.map(summary)).toEqual(['ok:5']);
  });
});

describe('compiling and replacing', () => {
  it('a syntax error is a COMPILE ConverterError with converter name, line and column', async () => {
    const error = await sandbox.uplink('broken', 'var a = 1;\nvar b = ;\nreturn [];').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConverterError);
    expect((error as ConverterError).kind).toBe('COMPILE');
    expect((error as ConverterError).message).toBe(
      'uplink converter "broken": the converter does not compile: SyntaxError: Unexpected token \';\' (line 2, column 9)',
    );
    const unclosed = await sandbox.uplink('unclosed', 'return {').catch((e: unknown) => e as ConverterError);
    expect((unclosed as ConverterError).message).toMatch(/at the end of the converter: a closing brace, bracket or parenthesis is probably missing/);
  });

  it('a body cannot close the wrapper function early', async () => {
    const error = await sandbox.uplink('escape', 'return []; }); globalThis.hacked = true; (function () {').catch((e: unknown) => e);
    expect((error as ConverterError).kind).toBe('COMPILE');
  });

  it('replace swaps atomically: a failed replace keeps the old version, batches in flight finish on the old one', async () => {
    const c = await sandbox.uplink('versions', "var end = Date.now() + 150; while (Date.now() < end) {} return {deviceName: 'v1', deviceType: 't'};", {
      timeoutMs: 5000,
    });
    expect(c.version).toBe(1);
    const inFlight = c.run([msg('')]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await c.replace("return {deviceName: 'v2', deviceType: 't'};");
    expect(c.version).toBe(2);
    expect((await inFlight).map(summary)).toEqual(['ok:v1']);
    expect((await c.run([msg('')])).map(summary)).toEqual(['ok:v2']);
    await expect(c.replace('return {')).rejects.toBeInstanceOf(ConverterError);
    expect(c.version).toBe(2);
    expect((await c.run([msg('')])).map(summary)).toEqual(['ok:v2']);
  });

  it('a disposed converter refuses to run', async () => {
    const c = await sandbox.uplink('gone', 'return [];');
    await c.dispose();
    await expect(c.run([msg('')])).rejects.toThrow(/was disposed/);
  });

  it('rejects bad limits with a ConfigError naming the field', async () => {
    await expect(sandbox.uplink('x', 'return [];', { memoryMb: 2 })).rejects.toBeInstanceOf(ConfigError);
    await expect(sandbox.uplink('x', 'return [];', { timeoutMs: 0 })).rejects.toThrow(/limits.timeoutMs/);
    expect(() => createConverterSandbox({ poolSize: 0 })).toThrow(/poolSize/);
  });
});

describe('downlink', () => {
  it('encodes a batch of commands; a bad one fails alone', async () => {
    const c = await sandbox.downlink(
      'down',
      "if (msgType === 'BAD') return {contentType: 'XML', data: ''}; return {contentType: 'JSON', data: {method: msg.method, to: metadata.deviceName, via: integrationMetadata.topicPrefix}, metadata: {topic: integrationMetadata.topicPrefix + '/' + metadata.deviceName}};",
    );
    const results = await c.run([
      { msg: { method: 'reboot' }, metadata: { deviceName: 'A' }, msgType: 'RPC_CALL_FROM_SERVER_TO_DEVICE', integrationMetadata: { topicPrefix: 'cmd' } },
      { msg: {}, metadata: {}, msgType: 'BAD', integrationMetadata: {} },
    ]);
    expect(results[0]).toEqual({
      ok: true,
      encoded: { contentType: 'JSON', data: '{"method":"reboot","to":"A","via":"cmd"}', metadata: { topic: 'cmd/A' } },
      logs: [],
    });
    expect(results[1]?.ok === false && results[1].error.path).toBe('contentType');
  });
});

describe('sandbox.dispose', () => {
  it('disposes every converter it made', async () => {
    const own = createConverterSandbox({ poolSize: 1 });
    const a = await own.uplink('a', 'return [];');
    const b = await own.downlink('b', "return {contentType: 'TEXT', data: 'x'};");
    await own.dispose();
    await expect(a.run([msg('')])).rejects.toThrow(/disposed/);
    await expect(b.run([{ msg: {}, metadata: {}, msgType: 'X', integrationMetadata: {} }])).rejects.toThrow(/disposed/);
  });
});

describe('disposing while busy', () => {
  it('batches queued behind a busy isolate end with a failure instead of hanging', async () => {
    const own = createConverterSandbox({ poolSize: 1 });
    const c = await own.uplink('busy', 'var end = Date.now() + 100; while (Date.now() < end) {} return [];', { timeoutMs: 5000 });
    const first = c.run([msg('')]);
    const queued = c.run([msg('')]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await own.dispose();
    const [[a], [b]] = await Promise.all([first, queued]);
    expect(a?.ok === false && a.error.message).toMatch(/disposed/);
    expect(b?.ok === false && b.error.message).toMatch(/disposed/);
  });
});
