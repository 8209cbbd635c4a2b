import type { ConverterFailure, DeviceRecord, KeyValues, RpcReply, Scalar, TelemetrySample } from '@tbi/plugin-api';
import { describeValue, indexPath, isPlainObject, keyPath, OutputProblem } from './output-path.js';

const NOTHING =
  'the converter returned nothing: return a result object ({deviceName, deviceType, telemetry…}), or an array of them ([] for "no data")';

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
export function normaliseUplinkOutput(
  output: unknown,
  receivedAt: number,
): { ok: true; records: DeviceRecord[] } | { ok: false; error: ConverterFailure } {
  try {
    if (output === undefined || output === null) throw new OutputProblem('', NOTHING);
    if (Array.isArray(output)) {
      return { ok: true, records: output.map((item, i) => normaliseResult(item, indexPath('', i), receivedAt)) };
    }
    if (!isPlainObject(output)) {
      throw new OutputProblem('', `expected a result object or an array of them, received ${describeValue(output)}`);
    }
    return { ok: true, records: [normaliseResult(output, '', receivedAt)] };
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

function normaliseResult(result: unknown, path: string, receivedAt: number): DeviceRecord {
  if (!isPlainObject(result)) {
    throw new OutputProblem(path, `expected a result object ({deviceName, deviceType, …}), received ${describeValue(result)}`);
  }
  const isDevice = present(result.deviceName) || present(result.deviceType);
  const isAsset = present(result.assetName) || present(result.assetType);
  if (isDevice && isAsset) {
    throw new OutputProblem(path, 'has both deviceName/deviceType and assetName/assetType: a result is either a device or an asset');
  }
  if (!isDevice && !isAsset) {
    throw new OutputProblem(keyPath(path, 'deviceName'), 'missing: a result needs deviceName and deviceType (or assetName and assetType)');
  }
  const [nameKey, typeKey] = isAsset ? ['assetName', 'assetType'] : ['deviceName', 'deviceType'];
  const record: DeviceRecord = {
    entityType: isAsset ? 'ASSET' : 'DEVICE',
    deviceName: requiredName(result[nameKey], keyPath(path, nameKey)),
    deviceType: requiredName(result[typeKey], keyPath(path, typeKey)),
    attributes: {},
    telemetry: [],
  };
  for (const key of ['customerName', 'groupName'] as const) {
    const value = optionalName(result[key], keyPath(path, key));
    if (value !== undefined) record[key] = value;
  }
  if (present(result.attributes)) record.attributes = keyValues(result.attributes, keyPath(path, 'attributes'));
  if (present(result.telemetry)) record.telemetry = telemetry(result.telemetry, keyPath(path, 'telemetry'), receivedAt);
  if (present(result.rpcReply)) record.rpcReplies = rpcReplies(result.rpcReply, keyPath(path, 'rpcReply'));
  return record;
}

function requiredName(value: unknown, path: string): string {
  if (!present(value)) throw new OutputProblem(path, 'missing: expected a non-empty string');
  const name = optionalName(value, path);
  if (name === undefined) throw new OutputProblem(path, 'expected a non-empty string, received an empty string');
  return name;
}

/** Names may be numbers (a serial number read from JSON), as ThingsBoard accepts them. */
function optionalName(value: unknown, path: string): string | undefined {
  if (!present(value)) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw new OutputProblem(path, `expected a non-empty string, received ${describeValue(value)}`);
  return value.trim() === '' ? undefined : value;
}

function keyValues(value: unknown, path: string): KeyValues {
  if (!isPlainObject(value)) {
    throw new OutputProblem(path, `expected an object of key/values, received ${describeValue(value)}`);
  }
  const out: KeyValues = {};
  for (const key of Object.keys(value)) {
    const at = keyPath(path, key);
    if (key === '') throw new OutputProblem(at, 'keys must not be empty');
    // Assigning "__proto__" would replace the prototype of the record instead of adding a key.
    if (key === '__proto__') throw new OutputProblem(at, '"__proto__" is not allowed as a key');
    out[key] = scalar(value[key], at);
  }
  return out;
}

function scalar(value: unknown, path: string): Scalar {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new OutputProblem(path, `expected a finite number, received ${String(value)}`);
  }
  throw new OutputProblem(
    path,
    `expected a string, number, boolean or null, received ${describeValue(value)} (nested values are not stored: flatten them or use JSON.stringify)`,
  );
}

function telemetry(value: unknown, path: string, receivedAt: number): TelemetrySample[] {
  if (Array.isArray(value)) return value.map((item, i) => sample(item, indexPath(path, i), receivedAt, true));
  if (!isPlainObject(value)) {
    throw new OutputProblem(path, `expected a flat object, {ts, values} or an array of {ts, values}, received ${describeValue(value)}`);
  }
  if ('values' in value || 'ts' in value) return [sample(value, path, receivedAt, false)];
  const values = keyValues(value, path);
  return Object.keys(values).length === 0 ? [] : [{ ts: receivedAt, values }];
}

function sample(value: unknown, path: string, receivedAt: number, inArray: boolean): TelemetrySample {
  if (!isPlainObject(value)) {
    throw new OutputProblem(path, `expected {ts, values}, received ${describeValue(value)}`);
  }
  if (!present(value.values)) {
    const why = inArray ? 'an array of telemetry holds {ts, values} objects' : 'telemetry with "ts" needs "values"';
    throw new OutputProblem(keyPath(path, 'values'), `missing: ${why}`);
  }
  return { ts: timestamp(value.ts, keyPath(path, 'ts'), receivedAt), values: keyValues(value.values, keyPath(path, 'values')) };
}

function timestamp(value: unknown, path: string, receivedAt: number): number {
  if (!present(value)) return receivedAt;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.trunc(value);
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) return Number(value);
  throw new OutputProblem(path, `expected epoch milliseconds (a number >= 0), received ${describeValue(value)}`);
}

function rpcReplies(value: unknown, path: string): RpcReply[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    const at = Array.isArray(value) ? indexPath(path, i) : path;
    if (!isPlainObject(item)) throw new OutputProblem(at, `expected {requestId, response}, received ${describeValue(item)}`);
    const id = item.requestId;
    if (!(typeof id === 'string' && id !== '') && !(typeof id === 'number' && Number.isFinite(id))) {
      throw new OutputProblem(keyPath(at, 'requestId'), `expected the request id (a string or number), received ${describeValue(id)}`);
    }
    return { requestId: String(id), response: item.response === undefined ? null : item.response };
  });
}
