import type { ConverterFailure, ConverterLog, DownlinkRequest, UplinkInput } from '@tbi/plugin-api';
import { MetadataTable } from './metadata-table.js';
import { LOG_LINES_PER_MESSAGE } from './runtime/runtime-source.js';

/** What one message produced in the isolate, before the output is validated. */
export type RawOutcome = { ok: true; output: unknown; logs: ConverterLog[] } | { ok: false; error: ConverterFailure; logs: ConverterLog[]; retry?: true };

/** Converter kinds: the same machinery runs both. */
export type ConverterKind = 'uplink' | 'downlink';

/** One batch ready to cross into the isolate: all payloads in one buffer plus one JSON string. */
export interface EncodedBatch {
  bytes: Uint8Array | undefined;
  itemsJson: string;
}

/**
 * Uplink: payloads concatenated (one copy into the isolate) and one JSON string
 * `[shapes, uses, values, header, count]`: the metadata table (see MetadataTable) and, per message,
 * its payload length followed by its metadata entry.
 */
export function encodeUplinkBatch(inputs: readonly UplinkInput[]): EncodedBatch {
  let total = 0;
  for (const input of inputs) total += input.payload.byteLength;
  const bytes = new Uint8Array(total);
  const table = new MetadataTable();
  const header: number[] = [];
  let offset = 0;
  for (const input of inputs) {
    bytes.set(input.payload, offset);
    offset += input.payload.byteLength;
    header.push(input.payload.byteLength);
    table.add(input.metadata ?? {}, header);
  }
  return { bytes, itemsJson: JSON.stringify([table.shapes, table.uses, table.values, header, inputs.length]) };
}

/**
 * The inverse of `encodeUplinkBatch` (in a converter process, which cuts the batch into parts
 * again): payloads are views into `bytes`; metadata objects are rebuilt from the table.
 */
export function decodeUplinkBatch(bytes: Uint8Array, itemsJson: string): UplinkInput[] {
  const [shapes, , values, header, count] = JSON.parse(itemsJson) as [string[][], number[], unknown[], number[], number];
  const inputs: UplinkInput[] = new Array<UplinkInput>(count);
  let h = 0;
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const length = header[h] as number;
    const shape = header[h + 1] as number;
    let metadata: unknown;
    if (shape < 0) {
      metadata = values[header[h + 2] as number];
      h += 3;
    } else {
      const keys = shapes[shape] as string[];
      const m: Record<string, unknown> = {};
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k] as string;
        const value = values[header[h + 2 + k] as number];
        if (key === '__proto__') Object.defineProperty(m, key, { value, writable: true, enumerable: true, configurable: true });
        else m[key] = value;
      }
      metadata = m;
      h += 2 + keys.length;
    }
    inputs[i] = { payload: bytes.subarray(offset, offset + length), metadata: metadata as UplinkInput['metadata'] };
    offset += length;
  }
  return inputs;
}

/** Downlink: the requests as one JSON string (a `msg` that JSON cannot carry becomes null). */
export function encodeDownlinkBatch(requests: readonly DownlinkRequest[]): EncodedBatch {
  const items = requests.map((r) => ({
    msg: r.msg === undefined ? null : r.msg,
    metadata: r.metadata ?? {},
    msgType: r.msgType,
    integrationMetadata: r.integrationMetadata ?? {},
  }));
  return { bytes: undefined, itemsJson: JSON.stringify(items) };
}

const LEVELS = new Set<ConverterLog['level']>(['debug', 'info', 'log', 'warn', 'error']);
const KINDS = new Set<ConverterFailure['kind']>(['COMPILE', 'THREW', 'TIMEOUT', 'MEMORY', 'INVALID_OUTPUT']);

function decodeLogs(frame: Record<string, unknown>): ConverterLog[] {
  const logs: ConverterLog[] = [];
  if (Array.isArray(frame.logs)) {
    for (const entry of frame.logs as unknown[]) {
      const e = entry as { level?: unknown; message?: unknown } | null;
      const level = LEVELS.has(e?.level as ConverterLog['level']) ? (e?.level as ConverterLog['level']) : 'log';
      logs.push({ level, message: typeof e?.message === 'string' ? e.message : String(e?.message) });
    }
  }
  if (typeof frame.dropped === 'number' && frame.dropped > 0) {
    logs.push({ level: 'warn', message: `[tbi] ${frame.dropped} more console lines dropped (at most ${LOG_LINES_PER_MESSAGE} per message)` });
  }
  return logs;
}

/**
 * One message's result: its output (`null` placeholder when there is none) and its side entry
 * `{e: failure} | {u: 1} | {r: 1}` plus `logs`/`dropped`, if any.
 */
function decodeOne(output: unknown, side: unknown): RawOutcome {
  if (side === undefined) return { ok: true, output, logs: [] };
  if (typeof side !== 'object' || side === null) {
    return { ok: false, error: { kind: 'THREW', message: 'the sandbox runtime returned a malformed result' }, logs: [] };
  }
  const f = side as Record<string, unknown>;
  if ('r' in f) {
    const message = 'not converted: an earlier message of the batch changed built-in objects';
    return { ok: false, error: { kind: 'THREW', message }, logs: [], retry: true };
  }
  const logs = decodeLogs(f);
  if ('e' in f) {
    const e = f.e as { kind?: unknown; message?: unknown } | null;
    const kind = KINDS.has(e?.kind as ConverterFailure['kind']) ? (e?.kind as ConverterFailure['kind']) : 'THREW';
    return { ok: false, error: { kind, message: typeof e?.message === 'string' ? e.message : 'the converter failed' }, logs };
  }
  return { ok: true, output: 'u' in f ? undefined : output, logs };
}

/**
 * Decodes what the runtime returned for a batch: `[output, …]` and, after a newline, an object of
 * side entries by message index (JSON never contains a raw newline). With `partial`, the two
 * parts are the unbracketed text the runtime kept when a call was stopped. Returns null when the
 * text is not what the runtime writes.
 */
export function decodeBatch(outputs: string, sides: string, expected: number, partial = false): RawOutcome[] | null {
  let list: unknown;
  let map: unknown;
  try {
    list = JSON.parse(partial ? `[${outputs}]` : outputs);
    map = JSON.parse(partial ? `{${sides}}` : sides);
  } catch {
    return null;
  }
  if (!Array.isArray(list) || (!partial && list.length !== expected) || list.length > expected) return null;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return null;
  const entries = map as Record<string, unknown>;
  return list.map((output, i) => decodeOne(output, Object.hasOwn(entries, i) ? entries[i] : undefined));
}

/** Splits a finished batch's text (`outputs\nsides`) and decodes it. */
export function decodeBatchText(text: string, expected: number): RawOutcome[] | null {
  const newline = text.indexOf('\n');
  if (newline < 0) return null;
  return decodeBatch(text.slice(0, newline), text.slice(newline + 1), expected);
}
