import type { MessageIdParts } from './driver/types.js';

/**
 * Pulsar message ids: the WebSocket API's base64 of the protobuf `MessageIdData` (field 1
 * `ledgerId`, 2 `entryId`, 3 `partition`, 4 `batch_index`, 6 `batch_size`, all varints), and the
 * `ledger:entry[:batch]` notation people write. Only the fields a replay needs are read.
 */

/** A message id's parts from the WebSocket API's base64 id; undefined when it is not one. */
export function decodeMessageId(base64: string): MessageIdParts | undefined {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0 || bytes.toString('base64').replace(/=+$/, '') !== base64.replace(/=+$/, '')) return undefined;
  return decodeSmall(bytes) ?? decodeFields(bytes);
}

/**
 * The common id (ledger, entry, batch index below 2^49, varints only) read with numbers: every
 * stored message's `sourceId` is made from one, and the BigInt reading cost 1 µs per message.
 * Undefined for anything else, which `decodeFields` reads.
 */
function decodeSmall(bytes: Buffer): MessageIdParts | undefined {
  let ledger = -1;
  let entry = -1;
  let batch = -1;
  let batchSize = 0;
  let i = 0;
  while (i < bytes.length) {
    const key = bytes[i++]!;
    if ((key & 7) !== 0 || key > 0x7f) return undefined;
    let value = 0;
    let scale = 1;
    for (let n = 0; ; n++) {
      if (i >= bytes.length || n === 7) return undefined;
      const byte = bytes[i++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) break;
    }
    const field = key >> 3;
    if (field === 1) ledger = value;
    else if (field === 2) entry = value;
    else if (field === 4) batch = value;
    else if (field === 6) batchSize = value;
  }
  if (ledger < 0 || entry < 0) return undefined;
  const parts: MessageIdParts = { ledger, entry, batch };
  if (batchSize > 0) parts.batchSize = batchSize;
  return parts;
}

function decodeFields(bytes: Buffer): MessageIdParts | undefined {
  const fields = new Map<number, bigint>();
  let i = 0;
  while (i < bytes.length) {
    const [key, afterKey] = varint(bytes, i);
    if (afterKey < 0) return undefined;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [value, next] = varint(bytes, afterKey);
      if (next < 0) return undefined;
      fields.set(field, value);
      i = next;
    } else if (wire === 2) {
      // Length-delimited (ack_set, first_chunk_message_id): skipped.
      const [length, next] = varint(bytes, afterKey);
      if (next < 0 || next + Number(length) > bytes.length) return undefined;
      i = next + Number(length);
    } else return undefined;
  }
  const ledger = fields.get(1);
  const entry = fields.get(2);
  if (ledger === undefined || entry === undefined) return undefined;
  const signed = (v: bigint | undefined, fallback: number) => (v === undefined ? fallback : Number(BigInt.asIntN(64, v)));
  const parts: MessageIdParts = { ledger: signed(ledger, -1), entry: signed(entry, -1), batch: signed(fields.get(4), -1) };
  const batchSize = signed(fields.get(6), 0);
  if (batchSize > 0) parts.batchSize = batchSize;
  return parts;
}

/** The base64 `MessageIdData` of an id (ledger, entry, and the batch index when there is one), as the reader's `messageId` takes it. */
export function encodeMessageId(id: MessageIdParts): string {
  const out: number[] = [0x08, ...toVarint(id.ledger), 0x10, ...toVarint(id.entry)];
  if (id.batch >= 0) out.push(0x20, ...toVarint(id.batch));
  return Buffer.from(out).toString('base64');
}

/** `ledger:entry` or `ledger:entry:batch`. */
export function formatMessageId(id: MessageIdParts): string {
  return id.batch >= 0 ? `${id.ledger}:${id.entry}:${id.batch}` : `${id.ledger}:${id.entry}`;
}

/** Parses `ledger:entry[:batch]` (whole numbers) or a base64 id; undefined when it is neither. */
export function parseMessageId(text: string): MessageIdParts | undefined {
  const m = /^(\d+):(\d+)(?::(\d+))?$/.exec(text.trim());
  if (m) {
    const [ledger, entry, batch] = [m[1]!, m[2]!, m[3]].map((v) => (v === undefined ? -1 : Number(v)));
    if (![ledger, entry, batch].every((n) => Number.isSafeInteger(n))) return undefined;
    return { ledger: ledger!, entry: entry!, batch: batch! };
  }
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(text.trim()) ? decodeMessageId(text.trim()) : undefined;
  return decoded !== undefined && decoded.ledger >= 0 && decoded.entry >= 0 ? decoded : undefined;
}

/**
 * Orders ids as the topic does: ledger, then entry, then batch index (a message that is not in
 * a batch, batch -1, sorts as the first of its entry).
 */
export function compareMessageIds(a: MessageIdParts, b: MessageIdParts): number {
  return a.ledger - b.ledger || a.entry - b.entry || Math.max(a.batch, 0) - Math.max(b.batch, 0);
}

function varint(bytes: Buffer, start: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = start; i < bytes.length && shift < 70n; i++) {
    const byte = bytes[i]!;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, i + 1];
    shift += 7n;
  }
  return [0n, -1];
}

function toVarint(n: number): number[] {
  let v = BigInt.asUintN(64, BigInt(n)); // negative int64 values are ten bytes, as protobuf writes them
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
