import type { ConverterFailure, EncodedDownlink, Metadata } from '@tbi/plugin-api';
import { describeValue, isPlainObject, keyPath, OutputProblem } from './output-path.js';

const CONTENT_TYPES = ['JSON', 'TEXT', 'BINARY'] as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Checks what a downlink converter returned: `{contentType: "JSON" | "TEXT" | "BINARY", data,
 * metadata}`. `data` is a string (Base64 for BINARY); for JSON an object, array, number, boolean
 * or null is accepted too and stringified, since ThingsBoard converters usually
 * `JSON.stringify` it themselves. Metadata values that are numbers or booleans become strings.
 *
 * @example
 * validateDownlinkOutput({ contentType: 'JSON', data: { on: true }, metadata: { topic: 'x' } })
 * // { ok: true, encoded: { contentType: 'JSON', data: '{"on":true}', metadata: { topic: 'x' } } }
 */
export function validateDownlinkOutput(output: unknown): { ok: true; encoded: EncodedDownlink } | { ok: false; error: ConverterFailure } {
  try {
    return { ok: true, encoded: encoded(output) };
  } catch (error) {
    if (!(error instanceof OutputProblem)) throw error;
    return {
      ok: false,
      error: { kind: 'INVALID_OUTPUT', message: error.message, ...(error.path === '' ? {} : { path: error.path }) },
    };
  }
}

function encoded(output: unknown): EncodedDownlink {
  if (output === undefined || output === null) {
    throw new OutputProblem('', 'the converter returned nothing: return {contentType, data, metadata}');
  }
  if (!isPlainObject(output)) {
    throw new OutputProblem('', `expected {contentType, data, metadata}, received ${describeValue(output)}`);
  }
  const contentType = output.contentType;
  if (!CONTENT_TYPES.includes(contentType as (typeof CONTENT_TYPES)[number])) {
    throw new OutputProblem('contentType', `expected "JSON", "TEXT" or "BINARY", received ${describeValue(contentType)}`);
  }
  const type = contentType as EncodedDownlink['contentType'];
  return { contentType: type, data: data(output.data, type), metadata: metadata(output.metadata) };
}

function data(value: unknown, type: EncodedDownlink['contentType']): string {
  if (typeof value === 'string') {
    if (type === 'BINARY' && !BASE64.test(value.replace(/\s+/g, ''))) {
      throw new OutputProblem('data', `expected Base64 for a BINARY downlink, received ${describeValue(value)}`);
    }
    if (type === 'BINARY') return value.replace(/\s+/g, '');
    return value;
  }
  if (type === 'JSON' && value !== undefined) return JSON.stringify(value);
  const what = type === 'BINARY' ? 'a Base64 string' : type === 'TEXT' ? 'a string' : 'a string or a JSON value';
  throw new OutputProblem('data', `expected ${what}, received ${describeValue(value)}`);
}

function metadata(value: unknown): Metadata {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) {
    throw new OutputProblem('metadata', `expected an object of string values, received ${describeValue(value)}`);
  }
  const out: Metadata = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    const at = keyPath('metadata', key);
    if (key === '__proto__') throw new OutputProblem(at, '"__proto__" is not allowed as a key');
    if (typeof v === 'string') out[key] = v;
    else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') out[key] = String(v);
    else if (v !== undefined && v !== null) throw new OutputProblem(at, `expected a string, received ${describeValue(v)}`);
  }
  return out;
}
