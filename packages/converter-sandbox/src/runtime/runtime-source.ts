import { GUARDS_SOURCE } from './guards-source.js';
import { LOCKDOWN_SOURCE } from './lockdown-source.js';
import { HELPER_NAMES, HELPERS_SOURCE } from './helpers-source.js';

/** Console lines kept per message, and characters per line. */
export const LOG_LINES_PER_MESSAGE = 50;
export const LOG_LINE_CHARS = 1024;
/** Largest JSON text one message's output may serialise to. */
export const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;
/** File names the converter is compiled under; stack traces and syntax errors name them. */
export const UPLINK_FILENAME = 'uplink-converter.js';
export const DOWNLINK_FILENAME = 'downlink-converter.js';

/**
 * The runtime (`runtimeSource(memoryMb)`) is evaluated once in every fresh isolate, before any
 * user code. Its completion value is the runtime API (reached only through the host's `Reference`; nothing of it is on the global):
 * `check` (syntax check of a body), `install` (set the compiled converter), `runUplink`,
 * `runDownlink` (batch loops) and `state` (progress, read by the host after a timeout).
 *
 * Why it is built this way:
 * - The runtime is strict code, so a sloppy converter cannot reach it through `fn.caller`,
 *   `arguments.callee.caller` or CallSite `getFunction`/`getThis`.
 * - Built-ins the runtime relies on are captured before user code runs; a converter that
 *   tampers with `JSON`, `Array.prototype`… only breaks its own output, which the host validates.
 * - Each message's result is serialised HERE with `JSON.stringify`, so getters, proxies and
 *   `toJSON` of the result run inside the isolate under the time limit; the host only ever
 *   receives one string per batch.
 * - Results are joined with string concatenation (no `push`, no array setters to intercept): a
 *   batch returns `[output, …]\n{"index": {failure, logs…}, …}` (see decodeBatch).
 * - Built-ins that could run past the limits or abort the process are guarded (GUARDS_SOURCE).
 * - Escape hatches with no use in a converter are removed: WebAssembly (memory outside the heap
 *   limit), SharedArrayBuffer/Atomics (blocking waits), FinalizationRegistry/WeakRef (callbacks
 *   that would run outside any call and its time limit).
 */
function buildRuntimeSource(maxElements: number): string {
  return String.raw`(function (global) {
'use strict';
${HELPERS_SOURCE}
var R_stringify = JSON.stringify;
var R_parse = JSON.parse;
var R_defineProperty = Object.defineProperty;
var R_freeze = Object.freeze;
var R_Function = Function;
var R_Promise = Promise;
var R_Error = Error;
var R_String = String;
var R_slice = String.prototype.slice;
var R_indexOf = String.prototype.indexOf;
var R_charCodeAt = String.prototype.charCodeAt;
var R_apply = Reflect.apply;
var R_create = Object.create;
var LOG_LINES = ${LOG_LINES_PER_MESSAGE};
var LOG_CHARS = ${LOG_LINE_CHARS};
var MAX_OUTPUT = ${MAX_OUTPUT_CHARS};
var MAX_ELEMENTS = ${maxElements};
${GUARDS_SOURCE}
${LOCKDOWN_SOURCE}
g_install(global);

['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'FinalizationRegistry', 'WeakRef'].forEach(function (name) {
  delete global[name];
});

var helpers = { ${HELPER_NAMES.map((name) => `${name}: ${name}`).join(', ')} };
Object.keys(helpers).forEach(function (name) {
  R_defineProperty(global, name, { value: helpers[name], writable: false, enumerable: false, configurable: false });
});

function q(text) { return R_stringify(text); }
function cut(text, max) {
  return text.length > max ? R_apply(R_slice, text, [0, max - 1]) + '\u2026' : text;
}

var logs = '';
var logCount = 0;
var logDropped = 0;

function formatArg(value) {
  if (typeof value === 'string') return value;
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return R_String(value);
  try {
    if (value instanceof R_Error) return R_String(value.name) + ': ' + R_String(value.message);
    var json = R_stringify(value);
    return json === undefined ? R_String(value) : json;
  } catch (e) {
    return '[unprintable ' + typeof value + ']';
  }
}

function logger(level) {
  return function () {
    if (logCount >= LOG_LINES) { logDropped++; return; }
    var line = '';
    for (var i = 0; i < arguments.length && line.length <= LOG_CHARS; i++) {
      line += (i > 0 ? ' ' : '') + formatArg(arguments[i]);
    }
    logs += (logCount > 0 ? ',' : '') + '{"level":"' + level + '","message":' + q(cut(line, LOG_CHARS)) + '}';
    logCount++;
  };
}

var consoleObject = R_freeze({
  log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'),
  debug: logger('debug'), trace: logger('debug'), dir: logger('log'),
});
R_defineProperty(global, 'console', { value: consoleObject, writable: false, enumerable: false, configurable: false });
l_lockdown(global);
// Set when a message left a global that cannot be removed: the rest of the batch runs on a fresh isolate.
var dirty = false;

// What a message produced besides its output (failure, logs, "undefined"), as the members of a
// JSON object; '' when there is nothing. Outputs and side entries travel separately, so the common
// case (an output, no logs) costs nothing more than the output's own JSON.
var side = '';

function withLogs(entry) {
  if (logCount === 0 && logDropped === 0) return entry;
  var part = '"logs":[' + logs + ']' + (logDropped > 0 ? ',"dropped":' + logDropped : '');
  return entry === '' ? part : entry + ',' + part;
}

function failure(kind, message) {
  side = withLogs('"e":{"kind":"' + kind + '","message":' + q(cut(message, 2000)) + '}');
  return 'null';
}

// Metadata arrives as a table (see metadata-table.ts): shapes (key lists), values, and per
// message a shape index plus value indices. Each message gets a new object: a converter that
// changes its metadata changes nothing for the next one. A shape used often is built by an
// object literal compiled for it (about six times faster than JSON.parse of the object); a
// literal defines own properties, so setters a converter put on Object.prototype never run.
// Rare shapes go through JSON text, so many distinct shapes compile nothing.
var SHAPE_COMPILE_AFTER = 8;
var SHAPE_CACHE_MAX = 256;
var shapeMakers = R_create(null);
var shapeCount = 0;
var shapeUses = R_create(null);
var shapeUseCount = 0;

function shapeId(keys) {
  var id = '';
  for (var k = 0; k < keys.length; k++) id += q(keys[k]) + ',';
  return id;
}

function jsonMaker(keys) {
  var n = keys.length;
  return function (v, x, p) {
    var text = '{';
    for (var k = 0; k < n; k++) text += (k > 0 ? ',' : '') + q(keys[k]) + ':' + q(v[x[p + k]]);
    return R_parse(text + '}');
  };
}

function compiledMaker(keys) {
  var body = "'use strict'; return {";
  for (var k = 0; k < keys.length; k++) {
    // A literal "__proto__" key would set the prototype; a computed one is an own property.
    body += (k > 0 ? ',' : '') + (keys[k] === '__proto__' ? '["__proto__"]' : q(keys[k])) + ': v[x[p + ' + k + ']]';
  }
  return R_Function('v', 'x', 'p', body + '};');
}

function makerFor(keys, uses) {
  var id = shapeId(keys);
  var maker = shapeMakers[id];
  if (maker !== undefined) return maker;
  var seen = (shapeUses[id] === undefined ? 0 : shapeUses[id]) + uses;
  if (seen < SHAPE_COMPILE_AFTER || shapeCount >= SHAPE_CACHE_MAX) {
    if (shapeUseCount >= 4 * SHAPE_CACHE_MAX) { shapeUses = R_create(null); shapeUseCount = 0; }
    if (shapeUses[id] === undefined) shapeUseCount++;
    shapeUses[id] = seen;
    return jsonMaker(keys);
  }
  maker = compiledMaker(keys);
  shapeMakers[id] = maker;
  shapeCount++;
  return maker;
}

var state = { out: '', extra: '', index: 0, done: false };
var converter = null;
var fileName = '';

// "TypeError: x is not a function (line 3, column 7)", lines counted in the user's source.
function describeError(error) {
  try {
    if (error === null || (typeof error !== 'object' && typeof error !== 'function')) {
      return 'the converter threw ' + formatArg(error);
    }
    var name = error.name;
    var message = error.message;
    var text = (typeof name === 'string' && name ? name : 'Error') + ': ' + (typeof message === 'string' ? message : formatArg(message));
    if (name === 'ReferenceError' && typeof message === 'string' && / is not defined$/.test(message)) {
      text += ' (a converter cannot create global variables: declare it with var, let or const)';
    }
    var stack = error.stack;
    if (typeof stack === 'string') {
      var at = R_apply(R_indexOf, stack, [fileName + ':']);
      if (at >= 0) {
        var rest = R_apply(R_slice, stack, [at + fileName.length + 1, at + fileName.length + 24]);
        var parts = rest.split(':');
        var line = parseInt(parts[0], 10);
        var column = parseInt(parts[1], 10);
        if (line > 0) text += ' (line ' + line + (column > 0 ? ', column ' + column : '') + ')';
      }
    }
    return text;
  } catch (e) {
    return 'the converter threw a value that could not be described';
  }
}

function invoke(a, b, c, d) {
  logs = ''; logCount = 0; logDropped = 0; side = '';
  var result;
  try {
    result = converter(a, b, c, d);
  } catch (error) {
    if (!l_cleanPrototypes()) dirty = true;
    return failure('THREW', describeError(error));
  }
  if (!l_cleanPrototypes()) dirty = true;
  var json;
  try {
    if (result instanceof R_Promise) {
      return failure('INVALID_OUTPUT', 'the converter returned a Promise: converters run synchronously (no async functions, no await)');
    }
    json = R_stringify(result);
  } catch (error) {
    return failure('INVALID_OUTPUT', 'the output could not be turned into JSON: ' + describeError(error));
  }
  if (json === undefined) {
    side = withLogs('"u":1');
    return 'null';
  }
  if (json.length > MAX_OUTPUT) {
    return failure('INVALID_OUTPUT', 'the output is ' + json.length + ' characters of JSON, more than the limit of ' + MAX_OUTPUT);
  }
  side = withLogs('');
  return json;
}

// The batch text is a rope of thousands of pieces; isolated-vm copies a flat string out about
// twice as fast, and reading one character flattens it.
function flat(text) {
  R_apply(R_charCodeAt, text, [0]);
  return text;
}

function sideEntry(extra, i) {
  return side === '' ? extra : extra + (extra === '' ? '' : ',') + '"' + i + '":{' + side + '}';
}

return {
  state: state,
  check: function (params, body) {
    try { R_Function(params, body); return ''; } catch (error) { return describeError(error); }
  },
  install: function (fn, name) { l_freezeConverter(fn); converter = fn; fileName = name; },
  runUplink: function (bytes, itemsJson) {
    var batch = R_parse(itemsJson);
    var shapes = batch[0];
    var makers = batch[1];
    var values = batch[2];
    var header = batch[3];
    var count = batch[4];
    // makers arrives holding each shape's number of messages; each element is replaced by the
    // shape's maker. The elements exist already, so no setter a converter defined can run.
    for (var k = 0; k < shapes.length; k++) makers[k] = makerFor(shapes[k], makers[k]);
    var h = 0;
    var out = '';
    var extra = '';
    var offset = 0;
    var tainted = false;
    state.out = ''; state.extra = ''; state.index = 0; state.done = false;
    for (var i = 0; i < count; i++) {
      state.index = i;
      var length = header[h];
      var shape = header[h + 1];
      var frame;
      try {
        if (dirty) throw null;
        var payload = new Array(length);
        for (var j = 0; j < length; j++) payload[j] = bytes[offset + j];
        var metadata = shape < 0 ? values[header[h + 2]] : makers[shape](values, header, h + 2);
        frame = invoke(payload, metadata);
      } catch (error) {
        // Only reachable when an earlier message redefined built-ins (e.g. a throwing setter for
        // Array.prototype[0]): the host reruns this message in a fresh isolate.
        tainted = true;
        side = '"r":1';
        frame = 'null';
      }
      offset += length;
      h += shape < 0 ? 3 : 2 + shapes[shape].length;
      out += (i > 0 ? ',' : '') + frame;
      extra = sideEntry(extra, i);
      state.out = out; state.extra = extra;
    }
    state.done = true;
    if (dirty) tainted = true;
    return flat((tainted ? 'T[' : '[') + out + ']\n{' + extra + '}');
  },
  runDownlink: function (itemsJson) {
    var items = R_parse(itemsJson);
    var out = '';
    var extra = '';
    var tainted = false;
    state.out = ''; state.extra = ''; state.index = 0; state.done = false;
    for (var i = 0; i < items.length; i++) {
      state.index = i;
      var item = items[i];
      var frame;
      if (dirty) {
        tainted = true;
        side = '"r":1';
        frame = 'null';
      } else try {
        frame = invoke(item.msg, item.metadata, item.msgType, item.integrationMetadata);
      } catch (error) {
        tainted = true;
        frame = failure('THREW', 'the converter changed built-in objects, so the sandbox could not run this message: ' + describeError(error));
      }
      out += (i > 0 ? ',' : '') + frame;
      extra = sideEntry(extra, i);
      state.out = out; state.extra = extra;
    }
    state.done = true;
    if (dirty) tainted = true;
    return flat((tainted ? 'T[' : '[') + out + ']\n{' + extra + '}');
  },
};
})(globalThis)`;
}

const sources = new Map<number, string>();

/**
 * The runtime for an isolate with a heap of `memoryMb`: inputs longer than the number of
 * 8-byte slots in that heap are refused by the guarded built-ins (see GUARDS_SOURCE).
 */
export function runtimeSource(memoryMb: number): string {
  const maxElements = Math.max(1 << 20, Math.floor((memoryMb * 1024 * 1024) / 8));
  let source = sources.get(maxElements);
  if (source === undefined) {
    source = buildRuntimeSource(maxElements);
    sources.set(maxElements, source);
  }
  return source;
}
