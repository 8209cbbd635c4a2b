/**
 * The ThingsBoard helper functions, as JavaScript source that runs INSIDE the isolate (the isolate
 * has no TextDecoder, Buffer or atob, so everything is written out here). It is a string, not a
 * function of this module, because bundlers and coverage tools may rewrite a function's text.
 *
 * Semantics follow ThingsBoard's TBEL `TbUtils` where JS had no built-in:
 * - bytes are numbers 0..255; negative (Java-style signed) bytes are taken modulo 256;
 * - `decodeToString` decodes UTF-8 like `TextDecoder` (invalid sequences become U+FFFD);
 * - `bytesToHex` is upper-case; `parseBytesToInt` is signed for 4 bytes, unsigned for 1 to 3;
 * - `toFixed` rounds the shortest decimal form half away from zero (Java `BigDecimal` HALF_UP)
 *   and returns a number, so `toFixed(1.005, 2)` is 1.01.
 *
 * The source declares plain functions; `HELPER_NAMES` lists the ones put on the global object.
 * No backticks or `${` in here: it is a template literal.
 */
export const HELPERS_SOURCE = String.raw`
var H_fromCharCode = String.fromCharCode;
var H_apply = Reflect.apply;
var H_jsonParse = JSON.parse;
var H_slice = Array.prototype.slice;
var H_String = String;
var H_Number = Number;
var H_isInteger = Number.isInteger;
var H_isFinite = Number.isFinite;
var H_TypeError = TypeError;
var H_RangeError = RangeError;
var H_Error = Error;
var H_B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
var H_HEX = '0123456789ABCDEF';
var H_CHUNK = 8192;
var H_B64_VALUE = (function () {
  var t = [];
  for (var i = 0; i < 128; i++) t[i] = -1;
  for (var j = 0; j < 64; j++) t[H_B64.charCodeAt(j)] = j;
  return t;
})();

function h_byteLength(bytes, fn) {
  if (bytes === null || bytes === undefined || typeof bytes !== 'object' || typeof bytes.length !== 'number') {
    throw new H_TypeError(fn + ': expected an array of byte values');
  }
  return bytes.length;
}

function h_codesToString(codes, n) {
  if (n <= H_CHUNK) return H_apply(H_fromCharCode, null, n === codes.length ? codes : H_apply(H_slice, codes, [0, n]));
  var s = '';
  for (var i = 0; i < n; i += H_CHUNK) {
    s += H_apply(H_fromCharCode, null, H_apply(H_slice, codes, [i, i + H_CHUNK < n ? i + H_CHUNK : n]));
  }
  return s;
}

function decodeToString(bytes) {
  var n = h_byteLength(bytes, 'decodeToString');
  var i = 0;
  for (; i < n; i++) {
    var c = bytes[i];
    if (!(c >= 0 && c < 0x80)) break;
  }
  if (i === n) return h_codesToString(bytes, n);
  var units = [];
  var u = 0;
  for (var k = 0; k < i; k++) units[u++] = bytes[k];
  while (i < n) {
    var b0 = bytes[i] & 0xff;
    if (b0 < 0x80) { units[u++] = b0; i++; continue; }
    var need, cp, lower = 0x80, upper = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) { need = 1; cp = b0 & 0x1f; }
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2; cp = b0 & 0x0f;
      if (b0 === 0xe0) lower = 0xa0;
      if (b0 === 0xed) upper = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3; cp = b0 & 0x07;
      if (b0 === 0xf0) lower = 0x90;
      if (b0 === 0xf4) upper = 0x8f;
    } else { units[u++] = 0xfffd; i++; continue; }
    var j = i + 1;
    var ok = true;
    for (var m = 0; m < need; m++) {
      if (j >= n) { ok = false; break; }
      var b = bytes[j] & 0xff;
      if (b < lower || b > upper) { ok = false; break; }
      lower = 0x80; upper = 0xbf;
      cp = (cp << 6) | (b & 0x3f);
      j++;
    }
    // A broken sequence yields one U+FFFD; the byte that broke it is decoded again (WHATWG).
    if (!ok) { units[u++] = 0xfffd; i = j; continue; }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units[u++] = 0xd800 + (cp >> 10);
      units[u++] = 0xdc00 + (cp & 0x3ff);
    } else units[u++] = cp;
    i = j;
  }
  return h_codesToString(units, u);
}

function bytesToString(bytes) { return decodeToString(bytes); }

function decodeToJson(input) {
  return H_jsonParse(typeof input === 'string' ? input : decodeToString(input));
}

function stringToBytes(str) {
  var s = H_String(str);
  var out = [];
  var o = 0;
  for (var i = 0; i < s.length; i++) {
    var c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      var d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out[o++] = c;
    else if (c < 0x800) { out[o++] = 0xc0 | (c >> 6); out[o++] = 0x80 | (c & 0x3f); }
    else if (c < 0x10000) { out[o++] = 0xe0 | (c >> 12); out[o++] = 0x80 | ((c >> 6) & 0x3f); out[o++] = 0x80 | (c & 0x3f); }
    else {
      out[o++] = 0xf0 | (c >> 18); out[o++] = 0x80 | ((c >> 12) & 0x3f);
      out[o++] = 0x80 | ((c >> 6) & 0x3f); out[o++] = 0x80 | (c & 0x3f);
    }
  }
  return out;
}

function h_encodeBase64(get, n) {
  var s = '';
  var i = 0;
  for (; i + 2 < n; i += 3) {
    var v = (get(i) << 16) | (get(i + 1) << 8) | get(i + 2);
    s += H_B64.charAt(v >> 18) + H_B64.charAt((v >> 12) & 63) + H_B64.charAt((v >> 6) & 63) + H_B64.charAt(v & 63);
  }
  if (n - i === 1) {
    var w = get(i) << 16;
    s += H_B64.charAt(w >> 18) + H_B64.charAt((w >> 12) & 63) + '==';
  } else if (n - i === 2) {
    var x = (get(i) << 16) | (get(i + 1) << 8);
    s += H_B64.charAt(x >> 18) + H_B64.charAt((x >> 12) & 63) + H_B64.charAt((x >> 6) & 63) + '=';
  }
  return s;
}

// Forgiving Base64 (WHATWG): ASCII whitespace ignored, padding optional.
function h_decodeBase64(input, fn) {
  var s = H_String(input);
  var clean = '';
  for (var i = 0; i < s.length; i++) {
    var ch = s.charAt(i);
    if (ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\f' && ch !== '\r') clean += ch;
  }
  if (clean.length % 4 === 0 && clean.charAt(clean.length - 1) === '=') {
    clean = clean.slice(0, clean.charAt(clean.length - 2) === '=' ? -2 : -1);
  }
  if (clean.length % 4 === 1) throw new H_Error(fn + ': the string is not valid Base64');
  var out = [];
  var o = 0;
  var acc = 0;
  var bits = 0;
  for (var k = 0; k < clean.length; k++) {
    var code = clean.charCodeAt(k);
    var v = code < 128 ? H_B64_VALUE[code] : -1;
    if (v < 0) throw new H_Error(fn + ': the string is not valid Base64 (character ' + (k + 1) + ')');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (acc >> bits) & 0xff; }
  }
  return out;
}

function btoa(data) {
  var s = H_String(data);
  for (var i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) throw new H_Error('btoa: the string contains characters outside of the Latin1 range');
  }
  return h_encodeBase64(function (k) { return s.charCodeAt(k); }, s.length);
}

function atob(data) {
  var bytes = h_decodeBase64(data, 'atob');
  return h_codesToString(bytes, bytes.length);
}

function base64ToBytes(input) { return h_decodeBase64(input, 'base64ToBytes'); }

function bytesToBase64(bytes) {
  var n = h_byteLength(bytes, 'bytesToBase64');
  return h_encodeBase64(function (k) { return bytes[k] & 0xff; }, n);
}

function bytesToHex(bytes) {
  var n = h_byteLength(bytes, 'bytesToHex');
  var s = '';
  for (var i = 0; i < n; i++) {
    var v = bytes[i] & 0xff;
    s += H_HEX.charAt(v >> 4) + H_HEX.charAt(v & 15);
  }
  return s;
}

function hexToBytes(hex) {
  if (typeof hex !== 'string') throw new H_TypeError('hexToBytes: expected a string of hex digits');
  var s = hex.trim().split('0x').join('').split('0X').join('');
  if (s.length === 0) throw new H_Error('hexToBytes: the hex string is empty');
  if (s.length % 2 !== 0) throw new H_Error('hexToBytes: the hex string must have an even length');
  var out = [];
  for (var i = 0; i < s.length; i += 2) {
    var hi = H_HEX.indexOf(s.charAt(i).toUpperCase());
    var lo = H_HEX.indexOf(s.charAt(i + 1).toUpperCase());
    if (hi < 0 || lo < 0) throw new H_Error('hexToBytes: "' + s.substr(i, 2) + '" is not a hex byte');
    out[i >> 1] = (hi << 4) | lo;
  }
  return out;
}

function parseBytesToInt(bytes, offset, length, bigEndian) {
  var n = h_byteLength(bytes, 'parseBytesToInt');
  var off = offset === undefined ? 0 : H_Number(offset);
  if (!H_isInteger(off) || off < 0 || off > n) throw new H_RangeError('parseBytesToInt: offset ' + offset + ' is outside the ' + n + ' bytes');
  var len = length === undefined ? (n - off < 4 ? n - off : 4) : H_Number(length);
  if (!H_isInteger(len) || len < 1 || len > 4) throw new H_RangeError('parseBytesToInt: length must be 1 to 4 bytes, got ' + length);
  if (off + len > n) throw new H_RangeError('parseBytesToInt: offset ' + off + ' + length ' + len + ' is past the end of the ' + n + ' bytes');
  var big = bigEndian === undefined ? true : !!bigEndian;
  var v = 0;
  for (var i = 0; i < len; i++) v = v * 256 + (bytes[big ? off + i : off + len - 1 - i] & 0xff);
  // Four bytes are a Java int (signed); fewer are zero-extended, as in ThingsBoard.
  return len === 4 ? v | 0 : v;
}

function toFixed(value, precision) {
  var v = H_Number(value);
  var p = precision === undefined ? 0 : H_Number(precision);
  if (!H_isInteger(p) || p < 0 || p > 100) throw new H_RangeError('toFixed: precision must be an integer from 0 to 100, got ' + precision);
  if (!H_isFinite(v) || v === 0) return v;
  var negative = v < 0;
  var text = H_String(negative ? -v : v);
  var e = text.indexOf('e');
  var exp = e < 0 ? 0 : H_Number(text.slice(e + 1));
  var mantissa = e < 0 ? text : text.slice(0, e);
  var dot = mantissa.indexOf('.');
  var digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  var point = (dot < 0 ? mantissa.length : dot) + exp;
  if (point < 0) { digits = '0'.repeat(-point) + digits; point = 0; }
  var keep = point + p;
  if (digits.length <= keep) return v;
  var kept = digits.slice(0, keep);
  if (digits.charCodeAt(keep) >= 53) {
    var arr = kept.split('');
    var k = arr.length - 1;
    while (k >= 0 && arr[k] === '9') { arr[k] = '0'; k--; }
    if (k < 0) { arr.unshift('1'); point++; } else arr[k] = H_String.fromCharCode(arr[k].charCodeAt(0) + 1);
    kept = arr.join('');
  }
  while (kept.length < point) kept += '0';
  var rounded = H_Number((kept.slice(0, point) || '0') + '.' + (kept.slice(point) || '0'));
  return negative ? -rounded : rounded;
}
`;

/** Helpers a converter sees as globals (ThingsBoard's names plus `bytesToString`/`stringToBytes`). */
export const HELPER_NAMES = [
  'decodeToString',
  'decodeToJson',
  'bytesToString',
  'stringToBytes',
  'btoa',
  'atob',
  'base64ToBytes',
  'bytesToBase64',
  'bytesToHex',
  'hexToBytes',
  'parseBytesToInt',
  'toFixed',
] as const;
