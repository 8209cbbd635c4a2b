/**
 * Guards installed in every isolate before user code, as JavaScript source (see RUNTIME_SOURCE).
 *
 * Why: V8 stops a script (time limit, memory limit) only at interrupt checks, and several
 * built-ins run long C++ loops without one. Found by probing isolated-vm 6.2 on Node 24:
 * - `Array.prototype.indexOf/reverse/fill/slice/…` on a sparse array of length 2^32-1 run for
 *   minutes, ignoring the time limit (fill also grows the heap far past the memory limit);
 * - `'x'.repeat(5e8).split('')`, `.match(/x/g)`, `new Array(2**32-1).toReversed()` abort the
 *   whole process with a V8 fatal error ("invalid size", heap OOM), which no limit can catch;
 * - `f.apply(null, {length: 1e8})`, `Object.assign({}, hugeString)` and `Object.keys(hugeString)`
 *   allocate gigabytes inside one call;
 * - a resizable `ArrayBuffer` (`maxByteLength`) is not counted against the memory limit.
 * So every built-in whose work grows with an input's length refuses inputs longer than
 * `MAX_ELEMENTS` (the number of 8-byte slots that fit in the memory limit: no real array or
 * string of a converter can be longer), and resizable buffers are not available.
 *
 * Expects `R_apply`, `R_defineProperty`, `R_String` and `MAX_ELEMENTS` in scope; `g_install(global)`
 * installs them. No backticks.
 */
export const GUARDS_SOURCE = String.raw`
var G_RangeError = RangeError;
var G_TypeError = TypeError;
var G_isView = ArrayBuffer.isView;
var G_stringValueOf = String.prototype.valueOf;
var G_construct = Reflect.construct;

function g_refuse(what, n, unit) {
  return new G_RangeError(what + ' on ' + n + ' ' + (unit || 'elements') + ' is refused in a converter (the limit is ' + MAX_ELEMENTS + ')');
}
function g_length(o) {
  if (o === null || o === undefined) return 0;
  var t = typeof o;
  if (t !== 'object' && t !== 'string' && t !== 'function') return 0;
  var n = +o.length;
  return n === n ? n : 0;
}
function g_isStringObject(o) {
  try { R_apply(G_stringValueOf, o, []); return true; } catch (e) { return false; }
}
// Strings, String objects and typed arrays have one own property per element.
function g_indexedLength(o) {
  if (typeof o === 'string') return o.length;
  if (o !== null && typeof o === 'object' && (G_isView(o) || g_isStringObject(o))) return g_length(o);
  return 0;
}
function g_wrap(owner, ownerName, name, check) {
  var native = owner[name];
  if (typeof native !== 'function') return;
  var what = ownerName + '.' + (typeof name === 'symbol' ? '[' + R_String(name.description) + ']' : name);
  // A method definition: not a constructor, and named like the original.
  var fn = { [name]() { return check(native, this, arguments, what); } }[name];
  R_defineProperty(fn, 'length', { value: native.length, configurable: true });
  R_defineProperty(owner, name, { value: fn, writable: true, enumerable: false, configurable: true });
}

function g_receiver(native, self, args, what) {
  var n = g_length(self);
  if (n > MAX_ELEMENTS) throw g_refuse(what, n);
  return R_apply(native, self, args);
}
function g_concat(native, self, args, what) {
  var n = g_length(self);
  for (var i = 0; i < args.length; i++) n += g_length(args[i]);
  if (n > MAX_ELEMENTS) throw g_refuse(what, n);
  return R_apply(native, self, args);
}
function g_arrayLike(native, self, args, what) {
  var n = g_length(args[0]);
  if (n > MAX_ELEMENTS) throw g_refuse(what, n);
  return R_apply(native, self, args);
}
function g_argumentList(index) {
  return function (native, self, args, what) {
    var n = g_length(args[index]);
    if (n > MAX_ELEMENTS) throw g_refuse(what + ' with an argument list', n);
    return R_apply(native, self, args);
  };
}
function g_indexedArguments(native, self, args, what) {
  for (var i = 0; i < args.length; i++) {
    var n = g_indexedLength(args[i]);
    if (n > MAX_ELEMENTS) throw g_refuse(what, n);
  }
  return R_apply(native, self, args);
}
// The receiver is turned into a string once, here, so a toString() cannot hand the native a
// different (huge) string than the one checked.
function g_stringReceiver(native, self, args, what) {
  if (self === null || self === undefined || typeof self === 'symbol') return R_apply(native, self, args);
  var s = R_String(self);
  if (s.length > MAX_ELEMENTS) throw g_refuse(what, s.length, 'characters');
  return R_apply(native, s, args);
}
function g_stringArgument(native, self, args, what) {
  if (args.length === 0 || typeof args[0] === 'symbol') return R_apply(native, self, args);
  var s = R_String(args[0]);
  if (s.length > MAX_ELEMENTS) throw g_refuse(what, s.length, 'characters');
  var list = [s];
  for (var i = 1; i < args.length; i++) R_defineProperty(list, i, { value: args[i], writable: true, enumerable: true, configurable: true });
  return R_apply(native, self, list);
}

function g_install(global) {
  var AP = Array.prototype;
  g_wrap(AP, 'Array.prototype', 'concat', g_concat);
  ['copyWithin', 'every', 'fill', 'filter', 'find', 'findIndex', 'findLast', 'findLastIndex', 'flat', 'flatMap',
    'forEach', 'includes', 'indexOf', 'join', 'lastIndexOf', 'map', 'reduce', 'reduceRight', 'reverse', 'shift',
    'slice', 'some', 'sort', 'splice', 'toLocaleString', 'toReversed', 'toSorted', 'toSpliced', 'unshift', 'with',
  ].forEach(function (name) { g_wrap(AP, 'Array.prototype', name, g_receiver); });
  g_wrap(Array, 'Array', 'from', g_arrayLike);
  g_wrap(Function.prototype, 'Function.prototype', 'apply', g_argumentList(1));
  g_wrap(Reflect, 'Reflect', 'apply', g_argumentList(2));
  g_wrap(Reflect, 'Reflect', 'construct', g_argumentList(1));
  ['split', 'match', 'matchAll', 'replace', 'replaceAll', 'normalize', 'toUpperCase', 'toLowerCase',
    'toLocaleUpperCase', 'toLocaleLowerCase',
  ].forEach(function (name) { g_wrap(String.prototype, 'String.prototype', name, g_stringReceiver); });
  [Symbol.split, Symbol.match, Symbol.matchAll, Symbol.replace].forEach(function (sym) {
    g_wrap(RegExp.prototype, 'RegExp.prototype', sym, g_stringArgument);
  });
  g_wrap(JSON, 'JSON', 'parse', g_stringArgument);
  ['keys', 'values', 'entries', 'getOwnPropertyNames', 'getOwnPropertyDescriptors', 'assign'].forEach(function (name) {
    g_wrap(Object, 'Object', name, g_indexedArguments);
  });
  g_wrap(Reflect, 'Reflect', 'ownKeys', g_indexedArguments);

  // ArrayBuffer without "maxByteLength": the intrinsic constructor stays reachable only here.
  var NativeArrayBuffer = ArrayBuffer;
  var Guarded = function ArrayBuffer(length, options) {
    if (new.target === undefined) throw new G_TypeError("Constructor ArrayBuffer requires 'new'");
    if (options !== null && typeof options === 'object' && options.maxByteLength !== undefined) {
      throw new G_RangeError('resizable ArrayBuffers (maxByteLength) are not available in converters');
    }
    return G_construct(NativeArrayBuffer, [length], new.target === Guarded ? NativeArrayBuffer : new.target);
  };
  R_defineProperty(Guarded, 'prototype', { value: NativeArrayBuffer.prototype, writable: false });
  R_defineProperty(Guarded, 'isView', { value: G_isView, writable: true, configurable: true });
  R_defineProperty(Guarded, Symbol.species, { get: function () { return this; }, configurable: true });
  R_defineProperty(NativeArrayBuffer.prototype, 'constructor', { value: Guarded, writable: true, configurable: true });
  R_defineProperty(NativeArrayBuffer.prototype, 'resize', {
    value: { resize() { throw new G_TypeError('resizable ArrayBuffers are not available in converters'); } }.resize,
    writable: true, configurable: true,
  });
  R_defineProperty(global, 'ArrayBuffer', { value: Guarded, writable: true, enumerable: false, configurable: true });
}
`;
