/**
 * The parsing rules of ThingsBoard's MQTT transport for gateway messages, so the test server
 * refuses what a real server refuses. Derived from the ThingsBoard source (4.x):
 * - `common/transport/mqtt/.../session/AbstractGatewaySessionHandler.java`: the payload must be a
 *   JSON object; `connect`/`disconnect` need a non-empty `device` (`checkDeviceName`), `type`
 *   defaults to `default`; telemetry maps each device to a JSON **array**, attributes to an object
 *   (anything else is `JsonSyntaxException("Can't parse value: …")`).
 * - `common/transport/transport-api/.../adaptor/JsonConverter.java`: a telemetry entry with both
 *   `ts` and `values` uses `ts` (a long) and the `values` object, any other object is itself the
 *   values at the server's time; values are primitives (strings that parse as numbers become
 *   numbers), objects/arrays (kept as JSON), `null` is skipped; integers outside a Java long are
 *   refused ("Big integer values are not supported!").
 */

/** A value as ThingsBoard stores it. */
export type TbValue = string | number | boolean | { json: unknown };

/** One timestamped set of values. */
export interface TbSample {
  ts: number;
  values: Record<string, TbValue>;
}

/** A gateway payload ThingsBoard would not accept; the server closes the connection on it. */
export class GatewayPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayPayloadError';
  }
}

/** True for the error the test server raises for a payload ThingsBoard refuses. */
export function isGatewayPayloadError(error: unknown): error is GatewayPayloadError {
  return error instanceof GatewayPayloadError;
}

const LONG_MAX = 9_223_372_036_854_775_807n;

function cantParse(value: unknown): never {
  throw new GatewayPayloadError(`Can't parse value: ${JSON.stringify(value)}`);
}

/** Parses a payload as the JSON object every gateway topic expects. */
export function parseJsonObject(payload: Uint8Array): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (error) {
    throw new GatewayPayloadError(`invalid JSON: ${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) cantParse(json);
  return json as Record<string, unknown>;
}

/** `{"device": "A", "type": "P"}` of `v1/gateway/connect` (and `disconnect`, without type). */
export function parseConnect(payload: Uint8Array): { device: string; type: string } {
  const json = parseJsonObject(payload);
  const device = json.device;
  if (device === undefined || device === null) throw new GatewayPayloadError('no "device" property');
  const name = typeof device === 'string' ? device : JSON.stringify(device);
  if (name === '') throw new GatewayPayloadError('Device name is empty!');
  const type = json.type === undefined || json.type === null ? 'default' : String(json.type);
  return { device: name, type };
}

function numberOf(raw: string, key: string): number {
  if (/^-?\d+$/.test(raw) && BigInt(raw) > LONG_MAX) {
    throw new GatewayPayloadError(`Big integer values are not supported! (${key})`);
  }
  return Number(raw);
}

/** The values object of one entry, with ThingsBoard's type casts. */
export function parseValues(values: unknown): Record<string, TbValue> {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) cantParse(values);
  const out: Record<string, TbValue> = {};
  for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
    if (value === null) continue;
    if (typeof value === 'string') {
      // NumberUtils.isParsable: an optional minus, digits, at most one dot.
      out[key] = /^-?(\d+(\.\d*)?|\.\d+)$/.test(value) ? numberOf(value, key) : value;
    } else if (typeof value === 'number') {
      if (Number.isInteger(value) && !Number.isSafeInteger(value) && BigInt(value) > LONG_MAX) numberOf(BigInt(value).toString(), key);
      out[key] = value;
    } else if (typeof value === 'boolean') {
      out[key] = value;
    } else {
      out[key] = { json: value };
    }
  }
  return out;
}

/** `{"A": [{ts, values} | values, …], …}` of `v1/gateway/telemetry`. */
export function parseGatewayTelemetry(payload: Uint8Array, now: number): Map<string, TbSample[]> {
  const json = parseJsonObject(payload);
  const out = new Map<string, TbSample[]>();
  for (const [device, entries] of Object.entries(json)) {
    if (!Array.isArray(entries)) cantParse(json);
    out.set(
      device,
      entries.map((entry: unknown) => {
        if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) cantParse(entry);
        const e = entry as Record<string, unknown>;
        if ('ts' in e && 'values' in e) {
          if (typeof e.ts !== 'number' || !Number.isInteger(e.ts)) cantParse(e.ts);
          return { ts: e.ts, values: parseValues(e.values) };
        }
        return { ts: now, values: parseValues(e) };
      }),
    );
  }
  return out;
}

/** `{"A": {k: v}, …}` of `v1/gateway/attributes` (client scope). */
export function parseGatewayAttributes(payload: Uint8Array): Map<string, Record<string, TbValue>> {
  const json = parseJsonObject(payload);
  const out = new Map<string, Record<string, TbValue>>();
  for (const [device, values] of Object.entries(json)) {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) cantParse(json);
    out.set(device, parseValues(values));
  }
  return out;
}

/** `{"device": "A", "id": 1, "data": {...}}`: a gateway's reply to a server RPC. */
export function parseRpcReply(payload: Uint8Array): { device: string; id: number; data: unknown } {
  const json = parseJsonObject(payload);
  const { device } = parseConnect(payload);
  const id = Number(json.id);
  if (!Number.isInteger(id)) throw new GatewayPayloadError('the RPC reply has no integer "id"');
  return { device, id, data: json.data };
}

/**
 * `{"id": 1, "device": "A", "client": true, "key": "k"}` (or `"keys": [...]`) of
 * `v1/gateway/attributes/request`: `client` is read as a boolean (`getAsBoolean`), `id` as an int.
 */
export function parseAttributeRequest(payload: Uint8Array): { id: number; device: string; client: boolean; keys: string[] } {
  const json = parseJsonObject(payload);
  const { device } = parseConnect(payload);
  if (typeof json.id !== 'number' || !Number.isInteger(json.id)) throw new GatewayPayloadError('the attribute request has no integer "id"');
  if (typeof json.client !== 'boolean') throw new GatewayPayloadError('the attribute request has no boolean "client"');
  const keys = Array.isArray(json.keys) ? json.keys.map(String) : json.key !== undefined ? [String(json.key)] : [];
  if (keys.length === 0) throw new GatewayPayloadError('the attribute request names no "key" or "keys"');
  return { id: json.id, device, client: json.client, keys };
}
