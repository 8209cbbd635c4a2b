import { afterAll, describe, expect, it } from 'vitest';
import type { UplinkInput, UplinkResult } from '@tbi/plugin-api';
import { createConverterSandbox } from '../src/index.js';
import { utf8 } from './support.js';

/*
 * Metadata crosses into the isolate as a table of shapes and values and is rebuilt there (by a
 * compiled object literal once a shape is common, by JSON below that). These tests check that a
 * converter still sees exactly what JSON made of each message's metadata, its own fresh object
 * every time, whichever path built it.
 */
const sandbox = createConverterSandbox({ poolSize: 1 });
afterAll(() => sandbox.dispose());

const ECHO_METADATA =
  "return {deviceName: 'd', deviceType: 't', attributes: {m: JSON.stringify(metadata), proto: Object.getPrototypeOf(metadata) === Object.prototype}};";
const seen = (r: UplinkResult | undefined) => (r?.ok ? r.records[0]?.attributes : r?.error.message);
const input = (metadata: unknown): UplinkInput => ({ payload: new Uint8Array(0), metadata: metadata as Record<string, string> });

describe('metadata in the isolate', () => {
  it('arrives as JSON made it, for rare and common shapes alike', async () => {
    const c = await sandbox.uplink('echo-metadata', ECHO_METADATA);
    const odd = [
      {},
      { topic: 'a/b', integrationName: 'mqtt' },
      JSON.parse('{"__proto__":"p","2":"two","":"empty","\\u2028":"ls","q\\"":"\\"\\\\"}') as object,
      { n: 1, b: true, z: null, u: undefined, nested: { x: ['y'] } },
      Object.assign(Object.create(null) as object, { k: 'v' }),
      { toJSON: () => ({ from: 'toJSON' }) },
      undefined,
    ];
    const check = (results: UplinkResult[]) =>
      results.forEach((r, i) => {
        expect(seen(r)).toEqual({ m: JSON.stringify(odd[i % odd.length] ?? {}), proto: true });
      });
    // Once each: below the compile threshold, built through JSON text.
    check(await c.run(odd.map(input)));
    // Twenty rounds, so every shape also passes the compile threshold within one batch.
    const inputs = Array.from({ length: 20 }, () => odd.map(input)).flat();
    check(await c.run(inputs));
    // And again, now that the shapes' literals are compiled and cached.
    check(await c.run(odd.map(input)));
  });

  it('gives every message its own object: changes by one message do not reach the next', async () => {
    const c = await sandbox.uplink(
      'mutate-metadata',
      "var before = JSON.stringify(metadata); metadata.topic = 'changed'; metadata.extra = 'x'; delete metadata.integrationName; return {deviceName: 'd', deviceType: 't', attributes: {before: before}};",
    );
    for (const count of [3, 40]) {
      const inputs = Array.from({ length: count }, (_, i) => input({ topic: `t${i}`, integrationName: 'mqtt' }));
      const results = await c.run(inputs);
      results.forEach((r, i) => {
        expect(seen(r)).toEqual({ before: JSON.stringify({ topic: `t${i}`, integrationName: 'mqtt' }) });
      });
    }
  });

  it('setters a converter puts on Object.prototype never run while later metadata is built', async () => {
    const c = await sandbox.uplink(
      'setter-on-prototype',
      "if (metadata.first) { Object.defineProperty(Object.prototype, 'topic', { set: function () {}, get: function () { return 'evil'; }, configurable: true }); return []; }\n" +
        "return {deviceName: metadata.topic, deviceType: 't'};",
    );
    for (const count of [2, 30]) {
      const inputs = [input({ first: '1' }), ...Array.from({ length: count }, (_, i) => input({ topic: `t${i}` }))];
      const results = await c.run(inputs);
      expect(results[0]).toEqual({ ok: true, records: [], output: [], logs: [] });
      expect(results.slice(1).map((r) => (r.ok ? r.records[0]?.deviceName : r.error.message))).toEqual(Array.from({ length: count }, (_, i) => `t${i}`));
    }
  });

  it('many distinct shapes (more than the isolate caches) all arrive intact', async () => {
    const c = await sandbox.uplink('many-shapes', "var k = Object.keys(metadata)[0]; return {deviceName: k + '=' + metadata[k], deviceType: 't'};");
    const inputs = Array.from({ length: 600 }, (_, i) => input({ [`key${i % 300}`]: `v${i}` }));
    const results = await c.run(inputs);
    expect(results.map((r) => (r.ok ? r.records[0]?.deviceName : r.error.message))).toEqual(inputs.map((_, i) => `key${i % 300}=v${i}`));
  });

  it('large batches cut into parts keep their order and their payloads', async () => {
    const c = await sandbox.uplink('parts', "var d = decodeToJson(payload); return {deviceName: metadata.i + ':' + d.i, deviceType: 't'};");
    const inputs = Array.from({ length: 2500 }, (_, i) => ({ payload: utf8(JSON.stringify({ i })), metadata: { i: String(i) } }));
    const results = await c.run(inputs);
    expect(results.map((r) => (r.ok ? r.records[0]?.deviceName : r.error.message))).toEqual(inputs.map((_, i) => `${i}:${i}`));
  });
});
