import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConverterLimits, DownlinkRequest, Metadata } from '@tbi/plugin-api';
import { isPlainObject } from '../output-path.js';

/** One uplink case: a sample message and what the converter must make of it. */
export interface UplinkCase {
  name: string;
  payload: Uint8Array;
  metadata: Metadata;
  receivedAt: number;
  expected: { error: string } | { output: unknown };
}

/** One downlink case: a platform command and the downlink the converter must produce. */
export interface DownlinkCase {
  name: string;
  request: DownlinkRequest;
  expected: { error: string } | { output: unknown };
}

/** A parsed case file. A case that is itself malformed carries `invalid` and fails. */
export type CaseFile = {
  converterFile: string;
  limits?: Partial<ConverterLimits>;
} & (
  | { kind: 'uplink'; cases: (UplinkCase | { name: string; invalid: string })[] }
  | { kind: 'downlink'; cases: (DownlinkCase | { name: string; invalid: string })[] }
);

/** `foo.cases.json` belongs to `foo.js` (or the ThingsBoard export `foo.json`) beside it. */
export const CASES_SUFFIX = '.cases.json';

function stringMap(value: unknown, field: string): Metadata {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new Error(`"${field}" must be an object of strings`);
  const out: Metadata = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new Error(`"${field}.${k}" must be a string`);
    out[k] = v;
  }
  return out;
}

/** `"text"`, `{"base64": "..."}`, `{"hex": "..."}` or `{"json": any}`. */
export function payloadBytes(value: unknown): Uint8Array {
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (isPlainObject(value)) {
    if (typeof value.base64 === 'string') return new Uint8Array(Buffer.from(value.base64, 'base64'));
    if (typeof value.hex === 'string') {
      const hex = value.hex.replace(/\s+/g, '');
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error('"payload.hex" must be an even number of hex digits');
      return new Uint8Array(Buffer.from(hex, 'hex'));
    }
    if ('json' in value) return new TextEncoder().encode(JSON.stringify(value.json));
  }
  if (value === undefined) return new Uint8Array(0);
  throw new Error('"payload" must be a string, {"base64": …}, {"hex": …} or {"json": …}');
}

function expectation(value: unknown): { error: string } | { output: unknown } {
  if (value === undefined) throw new Error('"expected" is missing');
  if (isPlainObject(value) && 'error' in value) {
    if (typeof value.error !== 'string') throw new Error('"expected.error" must be a string (a part of the error message)');
    return { error: value.error };
  }
  return { output: value };
}

function parseCase(raw: unknown, index: number, kind: 'uplink' | 'downlink'): UplinkCase | DownlinkCase | { name: string; invalid: string } {
  const name = isPlainObject(raw) && typeof raw.name === 'string' && raw.name !== '' ? raw.name : `case ${index + 1}`;
  try {
    if (!isPlainObject(raw)) throw new Error('a case must be an object');
    if (kind === 'uplink') {
      const receivedAt = raw.receivedAt ?? 0;
      if (typeof receivedAt !== 'number') throw new Error('"receivedAt" must be epoch milliseconds');
      return { name, payload: payloadBytes(raw.payload), metadata: stringMap(raw.metadata, 'metadata'), receivedAt, expected: expectation(raw.expected) };
    }
    const msgType = raw.msgType ?? 'ATTRIBUTES_UPDATED';
    if (typeof msgType !== 'string') throw new Error('"msgType" must be a string');
    return {
      name,
      request: {
        msg: raw.msg ?? {},
        metadata: stringMap(raw.metadata, 'metadata'),
        msgType,
        integrationMetadata: stringMap(raw.integrationMetadata, 'integrationMetadata'),
      },
      expected: expectation(raw.expected),
    };
  } catch (error) {
    return { name, invalid: (error as Error).message };
  }
}

async function exportType(file: string): Promise<'uplink' | 'downlink' | undefined> {
  if (!file.endsWith('.json')) return undefined;
  try {
    const type = (JSON.parse(await readFile(file, 'utf8')) as { type?: unknown }).type;
    return type === 'DOWNLINK' ? 'downlink' : type === 'UPLINK' ? 'uplink' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a case file: a JSON array of cases, or `{converter?, kind?, limits?, cases}`. The kind
 * is the explicit one, else the ThingsBoard export's type, else downlink when a case has `msg`
 * or `msgType`. Throws (plain `Error`) when the file itself is unusable.
 */
export async function readCaseFile(file: string): Promise<CaseFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the case file: ${(error as Error).message}`);
  }
  const doc = Array.isArray(json) ? { cases: json } : json;
  if (!isPlainObject(doc) || !Array.isArray(doc.cases)) {
    throw new Error('a case file is a JSON array of cases, or an object with a "cases" array');
  }
  const dir = path.dirname(file);
  let converterFile: string;
  if (typeof doc.converter === 'string') converterFile = path.resolve(dir, doc.converter);
  else {
    const base = file.slice(0, -CASES_SUFFIX.length);
    const found = ['.js', '.json'].map((ext) => base + ext).find((candidate) => existsSync(candidate));
    if (!found) throw new Error(`no converter beside it: expected ${path.basename(base)}.js or ${path.basename(base)}.json, or a "converter" field`);
    converterFile = found;
  }
  const cases = doc.cases as unknown[];
  const declared = doc.kind === 'uplink' || doc.kind === 'downlink' ? doc.kind : undefined;
  if (doc.kind !== undefined && declared === undefined) throw new Error('"kind" must be "uplink" or "downlink"');
  const looksDownlink = cases.some((c) => isPlainObject(c) && ('msg' in c || 'msgType' in c));
  const kind = declared ?? (await exportType(converterFile)) ?? (looksDownlink ? 'downlink' : 'uplink');
  const limits = isPlainObject(doc.limits) ? (doc.limits as Partial<ConverterLimits>) : undefined;
  const parsed = cases.map((c, i) => parseCase(c, i, kind));
  return kind === 'uplink'
    ? { kind, converterFile, ...(limits ? { limits } : {}), cases: parsed as (UplinkCase | { name: string; invalid: string })[] }
    : { kind, converterFile, ...(limits ? { limits } : {}), cases: parsed as (DownlinkCase | { name: string; invalid: string })[] };
}
