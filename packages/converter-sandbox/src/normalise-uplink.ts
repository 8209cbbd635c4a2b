import type { ConverterFailure, DeviceRecord, KeyValues, RpcReply, Scalar, TelemetrySample } from '@tbi/plugin-api';
import { describeValue, indexPath, isPlainObject, keyPath, OutputProblem } from './output-path.js';

/** Paths are built only when a problem is reported: validating valid output stays cheap. */
type Path = () => string;
const ROOT: Path = () => '';
const key =
  (path: Path, k: string): Path =>
  () =>
    keyPath(path(), k);
const index =
  (path: Path, i: number): Path =>
  () =>
    indexPath(path(), i);

function problem(path: Path, message: string): OutputProblem {
  return new OutputProblem(path(), message);
}

/**
 * Longest device, asset, type, customer and group name, in characters: ThingsBoard's limit
 * (its name columns are `varchar(255)`). A longer name used to be stored and was then unreachable
 * through the API and ThingsBoard.
 */
export const MAX_NAME_LENGTH = 255;
/** Longest telemetry or attribute key, in characters: ThingsBoard's key dictionary is `varchar(255)` too. */
export const MAX_KEY_LENGTH = 255;

/** Fields a converter may mean but misspell; each would otherwise be dropped without a word. */
const MISNAMED: Readonly<Record<string, string>> = { rpcReplies: 'rpcReply', rpcResponse: 'rpcReply', rpcResponses: 'rpcReply' };

const NOTHING = 'the converter returned nothing: return a result object ({deviceName, deviceType, telemetry…}), or an array of them ([] for "no data")';

/**
 * Turns what an uplink converter returned into device records, accepting every shape a
 * ThingsBoard converter may return: one result or an array; `deviceName`/`deviceType` or
 * `assetName`/`assetType`; `telemetry` as a flat map, `{ts, values}` or an array of those (flat
 * maps and samples without `ts` get `receivedAt`). Anything else is an `INVALID_OUTPUT` failure
 * whose `path` says which field of which result is wrong, e.g. `[1].telemetry[0].ts`.
 *
 * @example
 * normaliseUplinkOutput({ deviceName: 'A', deviceType: 'T', telemetry: { t: 1 } }, 1000)
 * // { ok: true, records: [{ entityType: 'DEVICE', deviceName: 'A', deviceType: 'T', attributes: {}, telemetry: [{ ts: 1000, values: { t: 1 } }] }] }
 */
export function normaliseUplinkOutput(output: unknown, receivedAt: number): { ok: true; records: DeviceRecord[] } | { ok: false; error: ConverterFailure } {
  try {
    if (output === undefined || output === null) throw problem(ROOT, NOTHING);
    if (Array.isArray(output)) {
      return { ok: true, records: output.map((item, i) => normaliseResult(item, index(ROOT, i), receivedAt)) };
    }
    if (!isPlainObject(output)) {
      throw problem(ROOT, `expected a result object or an array of them, received ${describeValue(output)}`);
    }
    return { ok: true, records: [normaliseResult(output, ROOT, receivedAt)] };
  } catch (error) {
    if (!(error instanceof OutputProblem)) throw error;
    return {
      ok: false,
      error: { kind: 'INVALID_OUTPUT', message: error.message, ...(error.path === '' ? {} : { path: error.path }) },
    };
  }
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function normaliseResult(result: unknown, path: Path, receivedAt: number): DeviceRecord {
  if (!isPlainObject(result)) {
    throw problem(path, `expected a result object ({deviceName, deviceType, …}), received ${describeValue(result)}`);
  }
  const isDevice = present(result.deviceName) || present(result.deviceType);
  const isAsset = present(result.assetName) || present(result.assetType);
  if (isDevice && isAsset) {
    throw problem(path, 'has both deviceName/deviceType and assetName/assetType: a result is either a device or an asset');
  }
  if (!isDevice && !isAsset) {
    throw problem(key(path, 'deviceName'), 'missing: a result needs deviceName and deviceType (or assetName and assetType)');
  }
  for (const [wrong, right] of Object.entries(MISNAMED)) {
    if (present(result[wrong])) throw problem(key(path, wrong), `unknown field ${wrong} — did you mean ${right}?`);
  }
  const [nameKey, typeKey] = isAsset ? ['assetName', 'assetType'] : ['deviceName', 'deviceType'];
  const record: DeviceRecord = {
    entityType: isAsset ? 'ASSET' : 'DEVICE',
    deviceName: requiredName(result[nameKey], key(path, nameKey)),
    deviceType: requiredName(result[typeKey], key(path, typeKey)),
    attributes: {},
    telemetry: [],
  };
  for (const field of ['customerName', 'groupName'] as const) {
    const value = optionalName(result[field], key(path, field));
    if (value !== undefined) record[field] = value;
  }
  if (present(result.attributes)) record.attributes = keyValues(result.attributes, key(path, 'attributes'));
  if (present(result.telemetry)) record.telemetry = telemetry(result.telemetry, key(path, 'telemetry'), receivedAt);
  if (present(result.rpcReply)) record.rpcReplies = rpcReplies(result.rpcReply, key(path, 'rpcReply'));
  return record;
}

function requiredName(value: unknown, path: Path): string {
  if (!present(value)) throw problem(path, 'missing: expected a non-empty string');
  const name = optionalName(value, path);
  if (name === undefined) throw problem(path, 'expected a non-empty string, received an empty string');
  return name;
}

/** Names may be numbers (a serial number read from JSON), as ThingsBoard accepts them. */
function optionalName(value: unknown, path: Path): string | undefined {
  if (!present(value)) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw problem(path, `expected a non-empty string, received ${describeValue(value)}`);
  if (tooLong(value, MAX_NAME_LENGTH)) {
    throw problem(
      path,
      `too long: ${characters(value)} characters, at most ${MAX_NAME_LENGTH} (ThingsBoard's limit for names), received ${describeValue(value)}`,
    );
  }
  return value.trim() === '' ? undefined : value;
}

/** Counts code points only for strings whose UTF-16 length is over the limit: the common case costs one comparison. */
function tooLong(text: string, max: number): boolean {
  return text.length > max && characters(text) > max;
}

function characters(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The key as it appears in an error's path: a 100 kB key must not make a 100 kB message. */
function shownKey(k: string): string {
  return k.length > 40 ? `${k.slice(0, 40)}…` : k;
}

function keyValues(value: unknown, path: Path): KeyValues {
  if (!isPlainObject(value)) {
    throw problem(path, `expected an object of key/values, received ${describeValue(value)}`);
  }
  const out: KeyValues = {};
  for (const k of Object.keys(value)) {
    const v = value[k];
    // Assigning "__proto__" would replace the prototype of the record instead of adding a key.
    if (k === '' || k === '__proto__' || !isScalar(v) || tooLong(k, MAX_KEY_LENGTH)) {
      const at = key(path, shownKey(k));
      if (k === '') throw problem(at, 'keys must not be empty');
      if (k === '__proto__') throw problem(at, '"__proto__" is not allowed as a key');
      if (tooLong(k, MAX_KEY_LENGTH)) throw problem(at, `key too long: ${characters(k)} characters, at most ${MAX_KEY_LENGTH}`);
      scalar(v, at);
    }
    out[k] = v as Scalar;
  }
  return out;
}

function isScalar(value: unknown): boolean {
  const t = typeof value;
  return value === null || t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(value));
}

/** Throws the problem of a value that is not a scalar. */
function scalar(value: unknown, path: Path): Scalar {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw problem(path, `expected a finite number, received ${String(value)}`);
  }
  throw problem(
    path,
    `expected a string, number, boolean or null, received ${describeValue(value)} (nested values are not stored: flatten them or use JSON.stringify)`,
  );
}

function telemetry(value: unknown, path: Path, receivedAt: number): TelemetrySample[] {
  if (Array.isArray(value)) return value.map((item, i) => sample(item, index(path, i), receivedAt, true));
  if (!isPlainObject(value)) {
    throw problem(path, `expected a flat object, {ts, values} or an array of {ts, values}, received ${describeValue(value)}`);
  }
  if ('values' in value || 'ts' in value) return [sample(value, path, receivedAt, false)];
  const values = keyValues(value, path);
  return Object.keys(values).length === 0 ? [] : [{ ts: receivedAt, values }];
}

function sample(value: unknown, path: Path, receivedAt: number, inArray: boolean): TelemetrySample {
  if (!isPlainObject(value)) {
    throw problem(path, `expected {ts, values}, received ${describeValue(value)}`);
  }
  if (!present(value.values)) {
    const why = inArray ? 'an array of telemetry holds {ts, values} objects' : 'telemetry with "ts" needs "values"';
    throw problem(key(path, 'values'), `missing: ${why}`);
  }
  return { ts: timestamp(value.ts, key(path, 'ts'), receivedAt), values: keyValues(value.values, key(path, 'values')) };
}

function timestamp(value: unknown, path: Path, receivedAt: number): number {
  if (!present(value)) return receivedAt;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.trunc(value);
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) return Number(value);
  throw problem(path, `expected epoch milliseconds (a number >= 0), received ${describeValue(value)}`);
}

function rpcReplies(value: unknown, path: Path): RpcReply[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    const at = Array.isArray(value) ? index(path, i) : path;
    if (!isPlainObject(item)) throw problem(at, `expected {requestId, response}, received ${describeValue(item)}`);
    const id = item.requestId;
    if (!(typeof id === 'string' && id !== '') && !(typeof id === 'number' && Number.isFinite(id))) {
      throw problem(key(at, 'requestId'), `expected the request id (a string or number), received ${describeValue(id)}`);
    }
    return { requestId: String(id), response: item.response === undefined ? null : item.response };
  });
}
