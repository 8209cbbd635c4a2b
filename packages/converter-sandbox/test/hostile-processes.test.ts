import { afterAll, describe, expect, it } from 'vitest';
import type { UplinkResult } from '@tbi/plugin-api';
import { createConverterSandbox } from '../src/index.js';
import { utf8 } from './support.js';

/*
 * Hostile converters that no guard inspecting arguments can stop (issue 11): they are contained
 * by the converter process (killed and restarted when it aborts, hangs in a built-in that ignores
 * the time limit, or runs out of memory) and by the isolate's lockdown (no state from one message
 * to the next). Each runs in a batch next to a normal message of the same converter, while a
 * bystander integration converts in the same sandbox; only the culprit may fail.
 */
const TIMEOUT_MS = 100;
// The watchdog's deadline (limit × 2 + 1 s), twice (the batch, then the message alone in a fresh
// process), plus starting processes on a busy machine.
const WITHIN_MS = 2 * (TIMEOUT_MS * 2 + 1000) + 6000;

const VALID = "return {deviceName: 'ok', deviceType: 't'};";
const guard = (body: string) => `if (metadata.normal) { ${VALID} }\n${body}`;
const LIKE = 'var o = {n: 0, get length() { return this.n++ ? 4294967295 : 1; }};';
const fn = 'function (x) { return x; }';

/** Every Array method (and Array.from, apply) on an array-like whose length grows after the guard read it. */
const arrayLikeCalls: Record<string, string> = {
  sort: 'Array.prototype.sort.call(o)',
  toSorted: 'Array.prototype.toSorted.call(o)',
  toReversed: 'Array.prototype.toReversed.call(o)',
  with: 'Array.prototype.with.call(o, 0, 1)',
  toSpliced: 'Array.prototype.toSpliced.call(o, 0, 0)',
  'Array.from': 'Array.from(o)',
  lastIndexOf: 'Array.prototype.lastIndexOf.call(o, 1)',
  indexOf: 'Array.prototype.indexOf.call(o, 1)',
  includes: 'Array.prototype.includes.call(o, 1)',
  join: 'Array.prototype.join.call(o)',
  toLocaleString: 'Array.prototype.toLocaleString.call(o)',
  map: `Array.prototype.map.call(o, ${fn})`,
  forEach: `Array.prototype.forEach.call(o, ${fn})`,
  filter: `Array.prototype.filter.call(o, ${fn})`,
  every: 'Array.prototype.every.call(o, function () { return true; })',
  some: 'Array.prototype.some.call(o, function () { return false; })',
  find: 'Array.prototype.find.call(o, function () { return false; })',
  findIndex: 'Array.prototype.findIndex.call(o, function () { return false; })',
  findLast: 'Array.prototype.findLast.call(o, function () { return false; })',
  findLastIndex: 'Array.prototype.findLastIndex.call(o, function () { return false; })',
  reduce: 'Array.prototype.reduce.call(o, function (a) { return a; }, 0)',
  reduceRight: 'Array.prototype.reduceRight.call(o, function (a) { return a; }, 0)',
  fill: 'Array.prototype.fill.call(o, 1)',
  copyWithin: 'Array.prototype.copyWithin.call(o, 0, 1)',
  reverse: 'Array.prototype.reverse.call(o)',
  slice: 'Array.prototype.slice.call(o)',
  splice: 'Array.prototype.splice.call(o, 0, 1)',
  shift: 'Array.prototype.shift.call(o)',
  unshift: 'Array.prototype.unshift.call(o, 1)',
  flat: 'Array.prototype.flat.call(o)',
  flatMap: `Array.prototype.flatMap.call(o, ${fn})`,
  concat: '[].concat(o)',
  'Function.prototype.apply': 'Math.max.apply(null, o)',
};

const HUGE = "var s = 'x'.repeat(Math.pow(2, 28));";
/** Huge strings through paths that no argument guard sees. */
const hugeStringCalls: Record<string, string> = {
  'for…in over a huge string': `${HUGE} for (var k in s) {}`,
  'object spread of a huge string': `${HUGE} var x = {...s};`,
  'array spread of a huge string': `${HUGE} var x = [...s];`,
  'Object.keys of a huge string': `${HUGE} Object.keys(s);`,
  'JSON.stringify of a huge string': `${HUGE} JSON.stringify([s, s]);`,
  'Intl.Collator over a huge string': `${HUGE} new Intl.Collator().compare(s, s + 'y');`,
  'Intl.Segmenter over a huge string': `${HUGE} var n = 0; for (var seg of new Intl.Segmenter().segment(s)) n++;`,
  'a 500 MB string in the result': "var s = 'x'.repeat(Math.pow(2, 29) - 24); return {deviceName: s, deviceType: 't'};",
};

describe('hostile converters that would abort, hang or bloat an in-process sandbox', () => {
  const sandbox = createConverterSandbox({ processes: 2, poolSize: 1, defaultLimits: { timeoutMs: TIMEOUT_MS } });
  afterAll(() => sandbox.dispose());
  const bystanderFailures: UplinkResult[] = [];
  let bystander: Promise<unknown> = Promise.resolve();
  const rssBefore = process.memoryUsage().rss;

  /** A batch of another integration, converted while the culprit runs. */
  async function runBystander(): Promise<void> {
    const b = await sandbox.uplink('bystander/uplink', "var d = decodeToJson(payload); return {deviceName: d.id, deviceType: 't', telemetry: {v: d.v}};");
    const inputs = Array.from({ length: 50 }, (_, i) => ({ payload: utf8(JSON.stringify({ id: `B${i}`, v: i })), metadata: {} }));
    for (const r of await b.run(inputs)) if (!r.ok) bystanderFailures.push(r);
    await b.dispose();
  }

  for (const [name, body] of [
    ...Object.entries(arrayLikeCalls).map(([m, call]) => [`array-like with a changing length: ${m}`, `${LIKE} ${call}; return [];`] as const),
    ...Object.entries(hugeStringCalls).map(([n, b]) => [n, `${b} return [];`] as const),
  ]) {
    it(name, async () => {
      const converter = await sandbox.uplink(`hostile/${name}`, guard(body));
      const started = Date.now();
      bystander = runBystander();
      const [bad, normal] = await converter.run([
        { payload: utf8('{}'), metadata: {} },
        { payload: utf8('{}'), metadata: { normal: '1' } },
      ]);
      await bystander;
      expect(Date.now() - started).toBeLessThan(WITHIN_MS);
      // Either the built-in finished (a few do: indexOf, includes, concat) or the message failed clearly.
      if (!bad?.ok) {
        expect(['THREW', 'TIMEOUT', 'MEMORY', 'INVALID_OUTPUT']).toContain(bad?.error.kind);
        expect(bad?.error.message).toMatch(/refused|limit|sandbox process|Invalid|memory|too large|characters/i);
      }
      expect(normal?.ok && normal.records.map((r) => r.deviceName)).toEqual(['ok']);
      expect(bystanderFailures).toEqual([]);
      await converter.dispose();
    });
  }

  it('counted every process restart, marked the culprit integration degraded, and never grew the host', () => {
    const stats = sandbox.stats();
    expect(stats.restarts).toBeGreaterThan(10);
    expect(Object.keys(stats.restartsByCause).every((c) => ['abort', 'hang', 'memory', 'catastrophic'].includes(c))).toBe(true);
    expect(sandbox.integrationHealth('hostile')).toMatchObject({ status: 'degraded', detail: expect.stringMatching(/ended its converter process/) });
    expect(sandbox.integrationHealth('bystander')).toBeUndefined();
    // The 500 MB string and the gigabyte fills happened in converter processes.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  });
});

/** A polluting first message, then messages that must not see it (same batch and next batch). */
const pollution: Array<{ name: string; source: string; payload?: string }> = [
  {
    name: 'globals carrying one device into the next record',
    source:
      "if (metadata.first) { leaked = decodeToString(payload); globalThis.other = 1; return []; } return {deviceName: typeof leaked === 'undefined' && typeof other === 'undefined' ? 'clean' : 'LEAK', deviceType: 't'};",
  },
  {
    name: 'naive deep merge of a {"__proto__": …} body',
    payload: '{"__proto__": {"polluted": "yes", "deviceType": "evil"}, "a": {"__proto__": {"x": 1}}}',
    source:
      "function merge(t, s) { for (var k in s) { if (s[k] && typeof s[k] === 'object') { if (!t[k]) t[k] = {}; merge(t[k], s[k]); } else t[k] = s[k]; } return t; }\nvar d = merge({}, decodeToJson(payload)); var probe = {}; return {deviceName: probe.polluted || probe.x || [].polluted ? 'LEAK' : 'clean', deviceType: 't'};",
  },
  {
    name: 'setters on Array.prototype[0] and [1]',
    source:
      "if (metadata.first) { try { Object.defineProperty(Array.prototype, '0', { set: function () { throw new Error('trap'); }, configurable: true }); } catch (e) {} try { Array.prototype[1] = 'evil'; } catch (e) {} return []; } var a = []; a[0] = 1; return {deviceName: [][1] === undefined ? 'clean' : 'LEAK', deviceType: 't'};",
  },
  {
    name: 'a non-enumerable property defined on Object.prototype',
    source:
      "if (metadata.first) { Object.defineProperty(Object.prototype, 'secret', { value: decodeToString(payload), configurable: true }); return []; } return {deviceName: ({}).secret === undefined ? 'clean' : 'LEAK', deviceType: 't'};",
  },
  {
    name: 'a new prototype for Array.prototype',
    source:
      "if (metadata.first) { Object.setPrototypeOf(Array.prototype, { evil: 1 }); return []; } return {deviceName: [].evil === undefined ? 'clean' : 'LEAK', deviceType: 't'};",
  },
  {
    name: 'a non-configurable global',
    source:
      "if (metadata.first) { try { Object.defineProperty(globalThis, 'stuck', { value: 1 }); } catch (e) {} return []; } return {deviceName: typeof stuck === 'undefined' ? 'clean' : 'LEAK', deviceType: 't'};",
  },
  {
    name: 'RegExp legacy statics holding the last match',
    source:
      "if (metadata.first) { /(.+)/.exec(decodeToString(payload)); return []; } return {deviceName: RegExp.$1 || RegExp.lastMatch ? 'LEAK' : 'clean', deviceType: 't'};",
  },
  {
    name: 'state on the converter function itself (arguments.callee)',
    source:
      "if (metadata.first) { arguments.callee.state = decodeToString(payload); return []; } return {deviceName: arguments.callee.state === undefined ? 'clean' : 'LEAK', deviceType: 't'};",
  },
  {
    name: 'state on a helper function or on console',
    source:
      "if (metadata.first) { try { decodeToJson.cache = 1; } catch (e) {} try { console.cache = 1; } catch (e) {} return []; } return {deviceName: decodeToJson.cache === undefined && console.cache === undefined ? 'clean' : 'LEAK', deviceType: 't'};",
  },
  {
    name: 'changed built-in methods (Object.prototype.toString, JSON.parse, Array.prototype.push)',
    source:
      "if (metadata.first) { try { Object.prototype.toString = function () { return 'evil'; }; } catch (e) {} try { JSON.parse = function () { return {}; }; } catch (e) {} try { Array.prototype.push = null; } catch (e) {} return []; } var a = []; a.push(1); return {deviceName: String({}) === '[object Object]' && JSON.parse('{\"a\":1}').a === 1 ? 'clean' : 'LEAK', deviceType: 't'};",
  },
];

describe('no state from one message to the next', () => {
  const sandbox = createConverterSandbox({ processes: 1, poolSize: 1, defaultLimits: { timeoutMs: 1000 } });
  afterAll(() => sandbox.dispose());

  for (const p of pollution) {
    it(p.name, async () => {
      const converter = await sandbox.uplink(`pollution/${p.name}`, p.source);
      // The first message carries the attack (device A); the others are device B's.
      const message = (first: boolean) => ({
        payload: utf8(first ? (p.payload ?? '{"secret": "device A"}') : '{"id": "B"}'),
        metadata: (first ? { first: '1' } : {}) as Record<string, string>,
      });
      const names = (results: UplinkResult[]) => results.map((r) => (r.ok ? r.records.map((x) => x.deviceName).join() : r.error.message));
      // Later messages of the same batch, and of the next batch, see a clean isolate.
      const same = names(await converter.run([message(true), message(false), message(false)]));
      expect(same.slice(1)).toEqual(['clean', 'clean']);
      expect(names(await converter.run([message(false), message(false)]))).toEqual(['clean', 'clean']);
      await converter.dispose();
    });
  }

  it('a converter that assigns an undeclared variable is told to declare it', async () => {
    const converter = await sandbox.uplink('pollution/undeclared', "data = decodeToJson(payload); return {deviceName: data.id, deviceType: 't'};");
    const [result] = await converter.run([{ payload: utf8('{"id":"A"}'), metadata: {} }]);
    expect(result?.ok === false && result.error.message).toMatch(
      /ReferenceError: data is not defined \(a converter cannot create global variables: declare it with var, let or const\)/,
    );
    await converter.dispose();
  });

  it('ordinary code that assigns over inherited built-ins still works (override taming)', async () => {
    const converter = await sandbox.uplink(
      'pollution/override',
      "'use strict'; class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } } var o = {}; o.toString = function () { return 'own'; }; var e = new MyError('x'); return {deviceName: e.name + '/' + String(o) + '/' + e.toString(), deviceType: 't'};",
    );
    const [result] = await converter.run([{ payload: utf8('{}'), metadata: {} }]);
    expect(result?.ok && result.records[0]?.deviceName).toBe('MyError/own/MyError: x');
    await converter.dispose();
  });
});
