import { afterAll, describe, expect, it } from 'vitest';
import type { ConverterFailureKind, UplinkResult } from '@tbi/plugin-api';
import { createConverterSandbox } from '../src/index.js';
import { utf8 } from './support.js';

/*
 * Security suite: one hostile converter per known escape or abuse class. Each runs in a batch
 * next to a normal message of the same converter. For every one we check that
 *  - it ends in the expected, clear failure (or, for tampering that must have no effect, in the
 *    untouched correct result);
 *  - the normal message of the same batch still converts (after an isolate rebuild if needed);
 *  - nothing reached the host: no host global, prototype or process state changed.
 * At the end a brand-new converter still works and the host process is alive.
 */

interface Hostile {
  name: string;
  source: string;
  /** Failure kinds accepted (some abuses may end in either, depending on V8's path). */
  kinds?: ConverterFailureKind[];
  message?: RegExp;
  /** For tampering that must simply have no effect: the record it must produce. */
  ok?: string;
  check?: (result: UplinkResult) => void;
  limits?: { timeoutMs?: number; memoryMb?: number };
}

const VALID = "return {deviceName: 'ok', deviceType: 't'};";
// `metadata.normal` selects the normal message of each batch.
const guard = (body: string) => `if (metadata.normal) { ${VALID} }\n${body}`;

const hostile: Hostile[] = [
  {
    name: 'constructor chain to process',
    source: "return this.constructor.constructor('return process')().mainModule.require('fs');",
    kinds: ['THREW'],
    message: /ReferenceError: process is not defined/,
  },
  {
    name: 'constructor chain from a helper function',
    source: "return decodeToJson.constructor('return process')();",
    kinds: ['THREW'],
    message: /process is not defined/,
  },
  {
    name: 'Function constructor reaching for require',
    source: "return Function('return require')()('child_process').execSync('id');",
    kinds: ['THREW'],
    message: /require is not defined/,
  },
  {
    name: 'eval',
    source: "return eval('process.exit(1)');",
    kinds: ['THREW'],
    message: /process is not defined/,
  },
  {
    name: 'indirect eval through globalThis',
    source: "var g = (0, eval)('this'); return g.process.binding('fs');",
    kinds: ['THREW'],
    message: /Cannot read properties of undefined \(reading 'binding'\)/,
  },
  {
    name: 'Error.prepareStackTrace and CallSite getThis/getFunction',
    source: [
      'Error.prepareStackTrace = function (e, frames) { return frames; };',
      'var frames = new Error().stack;',
      'var seen = [];',
      'for (var i = 0; i < frames.length; i++) {',
      '  var fn = frames[i].getFunction(); var self = frames[i].getThis();',
      '  seen.push(typeof fn + "/" + typeof self);',
      "  if (fn && fn !== arguments.callee) { var p = fn.constructor('return typeof process')(); if (p !== 'undefined') return {deviceName: 'ESCAPED', deviceType: p}; }",
      '}',
      "throw new Error('no host frames: ' + seen.join(','));",
    ].join('\n'),
    kinds: ['THREW'],
    // Error is frozen (lockdown), so prepareStackTrace cannot be set and `stack` stays a string;
    // before the lockdown the frames were reachable and showed no host frame either.
    message: /getFunction is not a function|no host frames: function\/object,undefined\/undefined/,
  },
  {
    name: 'Error.captureStackTrace on a fake object',
    source:
      "var o = {}; Error.captureStackTrace(o); throw new Error('stack: ' + o.stack.split('\\n').length + ' ' + (o.stack.indexOf('node:') >= 0 ? 'HOST' : 'isolate only'));",
    kinds: ['THREW'],
    message: /isolate only/,
  },
  {
    name: 'arguments.callee.caller (sloppy caller walk)',
    source: "var c = arguments.callee.caller; if (c) return {deviceName: 'ESCAPED', deviceType: String(c).slice(0, 40)}; throw new Error('caller is ' + c);",
    kinds: ['THREW'],
    message: /caller is null/,
  },
  {
    name: 'looking for host objects on the global',
    source:
      "var hits = Object.getOwnPropertyNames(globalThis).filter(function (n) { return /^(Reference|ExternalCopy|Callback|Isolate|Context|process|require|module|exports|Buffer|setTimeout|setInterval|setImmediate|clearTimeout|fetch|XMLHttpRequest|WebSocket|queueMicrotask|structuredClone|global|WebAssembly|SharedArrayBuffer|Atomics|FinalizationRegistry|WeakRef)$|ivm|isolated/i.test(n); }); throw new Error('host globals: [' + hits.join(',') + ']');",
    kinds: ['THREW'],
    message: /host globals: \[\]/,
  },
  {
    name: 'the runtime is not reachable from the converter',
    source: "throw new Error([typeof state, typeof invoke, typeof runUplink, typeof converter, typeof helpers].join(' '));",
    kinds: ['THREW'],
    message: /undefined undefined undefined undefined undefined/,
  },
  {
    name: 'timers',
    source: 'setTimeout(function () { while (true) {} }, 0); return [];',
    kinds: ['THREW'],
    message: /setTimeout is not defined/,
  },
  {
    name: 'dynamic import()',
    source: "return import('node:fs');",
    kinds: ['THREW'],
    message: /import\(\) is not available in converters/,
  },
  {
    name: 'WebAssembly (memory outside the heap limit)',
    source: 'var m = new WebAssembly.Memory({initial: 1000}); return [];',
    kinds: ['THREW'],
    message: /WebAssembly is not defined/,
  },
  {
    name: 'SharedArrayBuffer and Atomics.wait',
    source: 'Atomics.wait(new Int32Array(new SharedArrayBuffer(16)), 0, 0); return [];',
    kinds: ['THREW'],
    message: /Atomics is not defined/,
  },
  {
    name: 'FinalizationRegistry callbacks outside any call',
    source: 'new FinalizationRegistry(function () { while (true) {} }).register({}, 1); return [];',
    kinds: ['THREW'],
    message: /FinalizationRegistry is not defined/,
  },
  {
    name: 'infinite loop',
    source: 'while (true) {}',
    kinds: ['TIMEOUT'],
    message: /ran longer than its limit/,
  },
  {
    name: 'promise job that loops after the converter returned',
    source: "Promise.resolve().then(function loop() { while (true) {} }); return {deviceName: 'late', deviceType: 't'};",
    kinds: ['TIMEOUT'],
  },
  {
    name: 'endless chain of promise jobs',
    source: "(function again() { Promise.resolve().then(again); })(); return {deviceName: 'late', deviceType: 't'};",
    kinds: ['TIMEOUT'],
  },
  {
    name: 'async function that resumes after the converter returned',
    source: "(async function () { await null; while (true) {} })(); return {deviceName: 'late', deviceType: 't'};",
    kinds: ['TIMEOUT'],
  },
  {
    name: 'returning a Promise (async converter)',
    source: "return (async function () { return {deviceName: 'a', deviceType: 't'}; })();",
    kinds: ['INVALID_OUTPUT'],
    message: /converters run synchronously/,
  },
  {
    name: 'deep recursion',
    source: 'function f(n) { return f(n + 1) + 1; } return f(0);',
    kinds: ['THREW'],
    message: /RangeError: Maximum call stack size exceeded/,
  },
  {
    name: 'huge string by doubling',
    source: "var s = 'x'; while (true) s = s + s;",
    kinds: ['THREW', 'MEMORY'],
    message: /Invalid string length|memory/,
  },
  {
    name: 'huge flat string',
    source: "return {deviceName: 'x'.repeat(1e9), deviceType: 't'};",
    kinds: ['THREW'],
    message: /Invalid string length/,
  },
  {
    name: 'huge array filled (grew the heap far past the limit, ignoring it)',
    source: 'var a = new Array(2e8).fill(1.5); return [];',
    kinds: ['THREW'],
    message: /Array.prototype.fill on 200000000 elements is refused in a converter/,
  },
  {
    name: 'uninterruptible loops of array built-ins over a sparse array of length 2^32-1',
    source: [
      'var a = []; a.length = 4294967295; var seen = [];',
      "['indexOf', 'lastIndexOf', 'includes', 'reverse', 'fill', 'copyWithin', 'slice', 'splice', 'unshift', 'shift', 'join', 'forEach', 'map', 'filter', 'sort', 'flat', 'toReversed', 'toSorted', 'toSpliced', 'with', 'concat'].forEach(function (m) {",
      "  try { a[m](0, 1); seen.push(m + ' ran'); } catch (e) { seen.push(e.name); }",
      '});',
      "throw new Error(seen.join(','));",
    ].join('\n'),
    kinds: ['THREW'],
    message: /^Error: (RangeError,){20}RangeError \(line/,
  },
  {
    name: 'toReversed of length 2^32-1 (V8 heap OOM abort of the whole process)',
    source: 'return new Array(4294967295).toReversed();',
    kinds: ['THREW'],
    message: /Array.prototype.toReversed on 4294967295 elements is refused/,
  },
  {
    name: 'array methods called on a huge array-like object',
    source: 'return Array.prototype.map.call({length: 4294967295}, function (x) { return x; });',
    kinds: ['THREW'],
    message: /Array.prototype.map on 4294967295 elements is refused/,
  },
  {
    name: 'Array.from a huge array-like object',
    source: 'return Array.from({length: 4294967295});',
    kinds: ['THREW'],
    message: /Array.from on 4294967295 elements is refused/,
  },
  {
    name: 'split of a huge string (V8 "invalid size" abort of the whole process)',
    source: "var s = 'x'.repeat(5e8); return s.split('');",
    kinds: ['THREW'],
    message: /String.prototype.split on 500000000 characters is refused/,
  },
  {
    name: 'match /g of a huge string, also through RegExp.prototype[Symbol.match]',
    source: "var s = 'x'.repeat(5e8); try { s.match(/x/g); } catch (e) { /x/g[Symbol.match](s); }",
    kinds: ['THREW'],
    message: /RegExp.prototype.\[Symbol.match\] on 500000000 characters is refused/,
  },
  {
    name: 'a huge string smuggled in through toString()',
    source: "return String.prototype.split.call({ toString: function () { return 'x'.repeat(5e8); } }, '');",
    kinds: ['THREW'],
    message: /String.prototype.split on 500000000 characters is refused/,
  },
  {
    name: 'Object.keys / Object.assign of a huge string',
    source: "var s = 'x'.repeat(2e8); try { Object.assign({}, s); } catch (e) { return Object.keys(new String(s)); }",
    kinds: ['THREW'],
    message: /Object.keys on 200000000 elements is refused/,
  },
  {
    name: 'Function.prototype.apply / Reflect.apply with a huge argument list',
    source: 'try { Math.max.apply(null, {length: 1e8}); } catch (e) { return Reflect.apply(Math.max, null, {length: 1e8}); }',
    kinds: ['THREW'],
    message: /Reflect.apply with an argument list on 100000000 elements is refused/,
  },
  {
    name: 'JSON.parse of a huge text',
    source: "return JSON.parse('[' + '1,'.repeat(1e8) + '1]');",
    kinds: ['THREW'],
    message: /JSON.parse on 200000003 characters is refused/,
  },
  {
    name: 'resizable ArrayBuffer (memory outside the limit), also through buffer.constructor',
    source: 'var AB = new Uint8Array(1).buffer.constructor; var b = new AB(8, {maxByteLength: 2 ** 33}); b.resize(2 ** 31); return [];',
    kinds: ['THREW'],
    message: /resizable ArrayBuffers \(maxByteLength\) are not available in converters/,
  },
  {
    name: 'many small objects until the heap is full',
    source: 'var a = []; while (true) a.push({i: a.length, s: "abcdefgh" + a.length});',
    kinds: ['MEMORY'],
    message: /more than its limit of 64 MiB/,
    limits: { timeoutMs: 20_000 },
  },
  {
    name: 'huge ArrayBuffer',
    source: 'var b = new ArrayBuffer(2 ** 31); return [];',
    kinds: ['THREW', 'MEMORY'],
    message: /Array buffer allocation failed|memory/,
  },
  {
    name: 'getter in the result that loops (runs in the isolate, under the limit)',
    source: "return { get deviceName() { while (true) {} }, deviceType: 't' };",
    kinds: ['TIMEOUT'],
  },
  {
    name: 'getter in the result that throws',
    source: "return { get deviceName() { throw new Error('gotcha'); }, deviceType: 't' };",
    kinds: ['INVALID_OUTPUT'],
    message: /could not be turned into JSON: Error: gotcha/,
  },
  {
    name: 'toJSON in the result that loops',
    source: 'return { toJSON: function () { while (true) {} } };',
    kinds: ['TIMEOUT'],
  },
  {
    name: 'Proxy result whose ownKeys trap loops',
    source: 'return new Proxy({}, { ownKeys: function () { while (true) {} } });',
    kinds: ['TIMEOUT'],
  },
  {
    name: 'Proxy result whose traps throw',
    source: "return new Proxy({deviceName: 'a'}, { get: function () { throw new Error('trap'); } });",
    kinds: ['INVALID_OUTPUT'],
    message: /could not be turned into JSON/,
  },
  {
    name: 'Proxy thrown as the error',
    source: 'throw new Proxy({}, { get: function () { while (true) {} } });',
    kinds: ['TIMEOUT'],
  },
  {
    name: 'error whose message getter throws itself',
    source: "var e = new Error(); Object.defineProperty(e, 'message', { get: function () { throw e; } }); throw e;",
    kinds: ['THREW'],
    message: /could not be described/,
  },
  {
    name: 'Symbol.species returning a constructor that reaches for the host',
    source:
      "var a = [1, 2]; a.constructor = {}; a.constructor[Symbol.species] = function () { return require('fs'); }; return a.map(function (x) { return x; });",
    kinds: ['THREW'],
    message: /require is not defined/,
  },
  {
    name: 'cyclic result',
    source: "var o = {deviceName: 'a', deviceType: 't'}; o.self = o; return o;",
    kinds: ['INVALID_OUTPUT'],
    message: /circular/,
  },
  {
    name: 'deeply nested result',
    source: "var o = {}; for (var i = 0; i < 200000; i++) o = {a: o}; return {deviceName: 'a', deviceType: 't', attributes: o};",
    kinds: ['INVALID_OUTPUT'],
    message: /could not be turned into JSON: RangeError/,
    // Building 200,000 levels takes 350–730 ms on a loaded 2-core machine, and more than 5 s when
    // the machine runs several suites at once; the point is the RangeError of the serialisation,
    // not the time limit.
    limits: { timeoutMs: 20_000 },
  },
  {
    name: 'BigInt in the result',
    source: "return {deviceName: 'a', deviceType: 't', telemetry: {n: 10n}};",
    kinds: ['INVALID_OUTPUT'],
    message: /BigInt/,
  },
  {
    name: '__proto__ key in the result (prototype pollution of the host)',
    source: 'return JSON.parse(\'{"deviceName":"a","deviceType":"t","attributes":{"__proto__":{"polluted":"yes"}}}\');',
    kinds: ['INVALID_OUTPUT'],
    message: /attributes.__proto__: "__proto__" is not allowed/,
  },
  {
    name: '__proto__ as the whole result',
    source: 'return JSON.parse(\'{"__proto__":{"deviceName":"x","deviceType":"t","polluted":"yes"}}\');',
    kinds: ['INVALID_OUTPUT'],
    message: /deviceName: missing/,
  },
  {
    name: 'Object.prototype pollution inside the isolate does not leak into the output',
    source: "Object.prototype.deviceName = 'evil'; Object.prototype.deviceType = 'evil'; Object.prototype.polluted = 'yes'; return {};",
    kinds: ['INVALID_OUTPUT'],
    message: /deviceName: missing/,
  },
  {
    name: 'replacing JSON.stringify has no effect on the output',
    source: 'JSON.stringify = function () { return \'{"deviceName":"pwned","deviceType":"t"}\'; }; return {deviceName: \'real\', deviceType: \'t\'};',
    ok: 'real',
  },
  {
    name: 'redefining a helper on globalThis',
    source: "Object.defineProperty(globalThis, 'decodeToJson', { value: function () { return {}; } }); return [];",
    kinds: ['THREW'],
    message: /Cannot redefine property: decodeToJson/,
  },
  {
    name: 'redefining console.log',
    source: "Object.defineProperty(console, 'log', { value: function () {} }); return [];",
    kinds: ['THREW'],
    message: /Cannot (redefine|define) property: log/,
  },
  {
    name: 'throwing setter on Array.prototype[0] (would break payload building for later messages)',
    source: "Object.defineProperty(Array.prototype, '0', { set: function () { throw new Error('trap'); }, configurable: true }); return [];",
    // Array.prototype's length is read-only after the lockdown, so no index can be defined on it.
    kinds: ['THREW'],
    message: /Cannot define property 0/,
  },
  {
    name: 'console flooding and unprintable objects',
    source: "for (var i = 0; i < 100000; i++) console.log('x'.repeat(2000)); console.error(new Proxy({}, { ownKeys: function () { throw 1; } })); return [];",
    check: (result) => {
      expect(result.ok).toBe(true);
      expect(result.logs).toHaveLength(51);
      expect(result.logs.every((l) => l.message.length <= 1024)).toBe(true);
    },
  },
];

describe('hostile converters', () => {
  const sandbox = createConverterSandbox({ poolSize: 1 });
  afterAll(() => sandbox.dispose());
  const hostGlobals = Object.getOwnPropertyNames(globalThis).sort();
  const hostPid = process.pid;

  it('has at least 30 abuse classes', () => {
    expect(hostile.length).toBeGreaterThanOrEqual(30);
  });

  for (const h of hostile) {
    // The converter's time limit, its watchdog (limit × 2 + 1 s) and the normal message after it.
    it(h.name, { timeout: Math.max(30_000, 3 * (h.limits?.timeoutMs ?? 500) + 10_000) }, async () => {
      const converter = await sandbox.uplink(h.name, guard(h.source), { timeoutMs: 500, ...h.limits });
      try {
        // The hostile message first, then a normal one of the same converter.
        const [bad, normal] = await converter.run([
          { payload: utf8('{}'), metadata: {} },
          { payload: utf8('{}'), metadata: { normal: '1' } },
        ]);
        if (h.check) h.check(bad as UplinkResult);
        else if (h.ok !== undefined) {
          expect(bad?.ok && bad.records.map((r) => r.deviceName)).toEqual([h.ok]);
        } else {
          expect(bad?.ok).toBe(false);
          if (bad?.ok === false) {
            expect(h.kinds).toContain(bad.error.kind);
            if (h.message) expect(bad.error.message).toMatch(h.message);
            expect(bad.error.message).not.toMatch(/ESCAPED/);
          }
        }
        expect(normal?.ok && normal.records.map((r) => r.deviceName)).toEqual(['ok']);
      } finally {
        await converter.dispose();
      }
      // Nothing reached the host.
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).deviceName).toBeUndefined();
      expect(Object.hasOwn(Array.prototype, '0')).toBe(false);
      expect(Object.getOwnPropertyNames(globalThis).sort()).toEqual(hostGlobals);
      expect(JSON.stringify({ a: 1 })).toBe('{"a":1}');
      expect(process.pid).toBe(hostPid);
    });
  }

  it('the host is alive and a normal converter works after all of them', async () => {
    const normal = await sandbox.uplink('after', "var d = decodeToJson(payload); return {deviceName: d.serial, deviceType: 'sensor', telemetry: {t: d.t}};");
    const [result] = await normal.run([{ payload: utf8('{"serial":"S1","t":20}'), metadata: {}, receivedAt: 1 }]);
    expect(result).toMatchObject({ ok: true, records: [{ deviceName: 'S1', telemetry: [{ ts: 1, values: { t: 20 } }] }] });
    expect(process.memoryUsage().rss).toBeGreaterThan(0);
  });
});
