/**
 * Lockdown of an isolate before any user code (as JavaScript source, run by RUNTIME_SOURCE),
 * so that no state survives from one message to the next:
 *
 * - Every intrinsic reachable from the global object, or only through syntax (generator,
 *   async and iterator prototypes, %TypedArray%, %ThrowTypeError%…), is frozen, like SES
 *   `lockdown()`; changes to them do nothing (sloppy code: silently; strict code: TypeError).
 * - Except two: freezing `Object.prototype` or `Array.prototype` (even preventExtensions)
 *   invalidates V8's "no elements" protector, and every array read in the isolate takes the slow
 *   path: measured 4 → 9 µs per message on the bench converter. Their own properties are made
 *   read-only and permanent instead (so `Array.prototype.length` is too, and no index such as a
 *   setter on `Array.prototype[0]` can be added), and after each message `l_cleanPrototypes()`
 *   removes what the message added (`Object.prototype.x = 1`, a `__proto__` deep merge). Listing
 *   both objects' keys after every message cost 5 µs, so it runs only when something changed:
 *   `Object.keys` of each is empty unless a message assigned a property (assignments make
 *   enumerable ones; about 1 µs per message for both, where a `for…in` over `[]` cost 4), a flag set by the wrapped define functions (`Object.defineProperty`,
 *   `defineProperties`, `Reflect.defineProperty`, `__defineGetter__`/`__defineSetter__`,
 *   `Error.captureStackTrace`) when their target is one of the two, and a look at
 *   `Array.prototype`'s prototype. A property it cannot remove (defined non-configurable)
 *   taints the isolate: the rest of the batch runs on a fresh one.
 * - Properties that ordinary code assigns on its own objects and that would now hit a frozen
 *   inherited one (`err.name = …`, `obj.toString = …`: the "override mistake") become accessors
 *   that define the property on the object itself, as SES's taming does.
 * - RegExp's legacy statics (`RegExp.$1`, `RegExp.input`, `lastMatch`…), which hold the last
 *   match's input for whoever reads next, are removed.
 * - The global object is not extensible and its properties are read-only: a converter cannot keep
 *   anything on it. (Checking it after each message instead, so that sloppy assignments to
 *   undeclared variables would still work within one message, cost about 10 µs per message:
 *   `Reflect.ownKeys` of the global object is slow.) Such an assignment then fails with
 *   "ReferenceError: x is not defined", to which describeError adds how to fix it.
 *
 * Expects `R_defineProperty`, `R_freeze`, `R_apply` in scope. No backticks.
 */
export const LOCKDOWN_SOURCE = String.raw`
var L_ownKeys = Reflect.ownKeys;
var L_getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
var L_getPrototypeOf = Object.getPrototypeOf;
var L_isFrozen = Object.isFrozen;
var L_TypeError = TypeError;
var L_setPrototypeOf = Object.setPrototypeOf;
var L_String = String;
var L_OP = Object.prototype;
var L_AP = Array.prototype;
var L_opKeys = null;
var L_apKeys = null;
var L_keys = Object.keys;
var L_touched = false;

// The define functions note when their target is Object.prototype or Array.prototype.
function l_watchDefines() {
  function watch(owner, name, targetOf) {
    var native = owner[name];
    var fn = { [name]() {
      var target = targetOf(this, arguments);
      if (target === L_OP || target === L_AP) L_touched = true;
      return R_apply(native, this, arguments);
    } }[name];
    R_defineProperty(fn, 'length', { value: native.length, configurable: true });
    R_defineProperty(owner, name, { value: fn, writable: true, enumerable: false, configurable: true });
  }
  var first = function (self, args) { return args[0]; };
  var receiver = function (self) { return self; };
  watch(Object, 'defineProperty', first);
  watch(Object, 'defineProperties', first);
  watch(Reflect, 'defineProperty', first);
  watch(Reflect, 'set', first);
  watch(Error, 'captureStackTrace', first);
  watch(Object.prototype, '__defineGetter__', receiver);
  watch(Object.prototype, '__defineSetter__', receiver);
}

function l_tame(owner, name) {
  var d = L_getOwnPropertyDescriptor(owner, name);
  if (d === undefined || !('value' in d)) return;
  var value = d.value;
  R_defineProperty(owner, name, {
    get: { [name]() { return value; } }[name],
    set: { [name](v) {
      if (this === owner) throw new L_TypeError('Cannot assign to read only property ' + L_String(name) + ' of a built-in object');
      R_defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
    } }[name],
    enumerable: d.enumerable,
    configurable: false,
  });
}

function l_freezeAll(roots, global) {
  var stack = roots.slice();
  var seen = new Set();
  while (stack.length > 0) {
    var o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || o === global || seen.has(o)) continue;
    seen.add(o);
    var proto = L_getPrototypeOf(o);
    if (proto !== null) stack.push(proto);
    var keys = L_ownKeys(o);
    for (var i = 0; i < keys.length; i++) {
      var d = L_getOwnPropertyDescriptor(o, keys[i]);
      if (d === undefined) continue;
      if ('value' in d) stack.push(d.value);
      else { stack.push(d.get); stack.push(d.set); }
    }
    if (o === L_OP || o === L_AP) l_fixProperties(o, keys);
    else if (!L_isFrozen(o)) R_freeze(o);
  }
}

// Each property read-only and permanent, the object itself left extensible (see above).
function l_fixProperties(o, keys) {
  for (var i = 0; i < keys.length; i++) {
    var d = L_getOwnPropertyDescriptor(o, keys[i]);
    if (d === undefined || !d.configurable && (!('value' in d) || !d.writable)) continue;
    R_defineProperty(o, keys[i], 'value' in d ? { writable: false, configurable: false } : { configurable: false });
  }
}

function l_lockdown(global) {
  l_watchDefines();
  ['$1', '$2', '$3', '$4', '$5', '$6', '$7', '$8', '$9', 'input', '$_', 'lastMatch', '$&', 'lastParen', '$+',
    'leftContext', '$' + String.fromCharCode(96), 'rightContext', "$'"].forEach(function (name) { delete RegExp[name]; });
  [[Object.prototype, ['constructor', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', 'toString', 'valueOf']],
    [Array.prototype, ['constructor', 'toString', 'push', 'concat', 'join']],
    [Function.prototype, ['constructor', 'toString', 'apply', 'call', 'bind']],
    [Error.prototype, ['constructor', 'message', 'name', 'toString']],
    [RegExp.prototype, ['constructor', 'exec', 'toString']],
    [Date.prototype, ['constructor', 'toString', 'toJSON']],
    [Promise.prototype, ['constructor', 'then']],
  ].forEach(function (entry) { entry[1].forEach(function (name) { l_tame(entry[0], name); }); });
  [EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError].forEach(function (E) {
    l_tame(E.prototype, 'name'); l_tame(E.prototype, 'message'); l_tame(E.prototype, 'constructor');
  });

  var roots = [];
  var keys = L_ownKeys(global);
  for (var i = 0; i < keys.length; i++) {
    var d = L_getOwnPropertyDescriptor(global, keys[i]);
    if ('value' in d) roots.push(d.value); else { roots.push(d.get); roots.push(d.set); }
  }
  // Intrinsics reached only through syntax or through instances.
  function* gen() {}
  async function af() {}
  async function* ag() {}
  roots.push(L_getPrototypeOf(gen), L_getPrototypeOf(gen()), L_getPrototypeOf(af), L_getPrototypeOf(ag), L_getPrototypeOf(ag()),
    L_getPrototypeOf([][Symbol.iterator]()), L_getPrototypeOf(''[Symbol.iterator]()), L_getPrototypeOf(new Map()[Symbol.iterator]()),
    L_getPrototypeOf(new Set()[Symbol.iterator]()), L_getPrototypeOf(/a/[Symbol.matchAll]('a')), L_getPrototypeOf(Int8Array),
    L_getOwnPropertyDescriptor(Function.prototype, 'caller').get, (function () { 'use strict'; return L_getOwnPropertyDescriptor(arguments, 'callee').get; })());
  if (typeof Iterator === 'function' && typeof Iterator.from === 'function') {
    roots.push(L_getPrototypeOf([].values().map(function (x) { return x; })), L_getPrototypeOf(Iterator.from({ next: function () { return { done: true }; } })));
  }
  if (typeof Intl === 'object' && typeof Intl.Segmenter === 'function') {
    var segments = new Intl.Segmenter().segment('a');
    roots.push(L_getPrototypeOf(segments), L_getPrototypeOf(segments[Symbol.iterator]()));
  }
  l_freezeAll(roots, global);

  for (var k = 0; k < keys.length; k++) {
    var desc = L_getOwnPropertyDescriptor(global, keys[k]);
    R_defineProperty(global, keys[k], 'value' in desc ? { writable: false, configurable: false } : { configurable: false });
  }
  Object.preventExtensions(global);
  L_opKeys = new Set(L_ownKeys(L_OP));
  L_apKeys = new Set(L_ownKeys(L_AP));
}

function l_clean(o, base) {
  var keys = L_ownKeys(o);
  if (keys.length === base.size) return true;
  for (var i = 0; i < keys.length; i++) {
    if (base.has(keys[i])) continue;
    // Strict code: deleting a non-configurable property throws.
    try { delete o[keys[i]]; } catch (e) { return false; }
  }
  return true;
}

// After each message: removes what it added to Object.prototype and Array.prototype; false
// when something cannot be removed.
function l_cleanPrototypes() {
  var changed = L_touched;
  if (!changed && (L_keys(L_OP).length !== 0 || L_keys(L_AP).length !== 0)) changed = true;
  if (!changed && L_getPrototypeOf(L_AP) === L_OP) return true;
  L_touched = false;
  try { L_setPrototypeOf(L_AP, L_OP); } catch (e) { return false; }
  return l_clean(L_OP, L_opKeys) & l_clean(L_AP, L_apKeys) ? true : false;
}

// The converter function itself (reachable as arguments.callee or by its name) holds no state either.
function l_freezeConverter(fn) {
  if (fn.prototype !== undefined) R_freeze(fn.prototype);
  R_freeze(fn);
}
`;
