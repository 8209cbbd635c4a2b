import path from 'node:path';
import { isTbiError, type ConverterLog, type DownlinkRequest, type UplinkInput } from '@tbi/plugin-api';
import { encodeDownlinkBatch, encodeUplinkBatch, type RawOutcome } from '../batch-codec.js';
import { resolveLimits } from '../limits.js';
import { loadConverterSource } from '../load-source.js';
import { normaliseUplinkOutput } from '../normalise-uplink.js';
import { isPlainObject } from '../output-path.js';
import { createPool } from '../sandbox-converter.js';
import { validateDownlinkOutput } from '../validate-downlink.js';
import { readCaseFile, type DownlinkCase, type UplinkCase } from './case-file.js';
import { firstDifference } from './first-difference.js';

/** How one case went. */
export interface CaseResult {
  name: string;
  ok: boolean;
  /** Why it failed: the first difference, the unexpected error, or the case's own problem. */
  message?: string;
  /** The normalised result (records or encoded downlink) or the error the converter produced. */
  actual?: unknown;
  logs: ConverterLog[];
}

/** The outcome of one case file, as `tbi test-converters` prints it. */
export interface CaseReport {
  file: string;
  /** The converter file the cases ran against (empty when it could not be found). */
  converter: string;
  kind: 'uplink' | 'downlink';
  /** True when every case passed and the file itself was usable. */
  ok: boolean;
  passed: number;
  failed: number;
  cases: CaseResult[];
  /** A problem with the file or the converter as a whole (unreadable, does not compile). */
  error?: string;
}

/**
 * Runs the cases of one `<converter>.cases.json` file against its converter and compares each
 * result with the expectation. Never throws for a failing case or a broken converter: the
 * report says what went wrong. Expected uplink output is normalised the same way as the actual
 * output, so it may be written as device records or as converter output; samples without `ts`
 * get the case's `receivedAt` (default 0).
 *
 * @example
 * const report = await runConverterCases('converters/uplink.cases.json');
 * if (!report.ok) process.exitCode = 1;
 */
export async function runConverterCases(file: string): Promise<CaseReport> {
  const absolute = path.resolve(file);
  let caseFile;
  try {
    caseFile = await readCaseFile(absolute);
  } catch (error) {
    return { file: absolute, converter: '', kind: 'uplink', ok: false, passed: 0, failed: 0, cases: [], error: (error as Error).message };
  }
  const report = (cases: CaseResult[], error?: string): CaseReport => {
    const failed = cases.filter((c) => !c.ok).length;
    return {
      file: absolute,
      converter: caseFile.converterFile,
      kind: caseFile.kind,
      ok: failed === 0 && error === undefined,
      passed: cases.length - failed,
      failed,
      cases,
      ...(error === undefined ? {} : { error }),
    };
  };
  let pool;
  try {
    const { source } = await loadConverterSource({ file: caseFile.converterFile }, caseFile.kind, path.dirname(absolute));
    const limits = resolveLimits(undefined, caseFile.limits);
    pool = await createPool({ kind: caseFile.kind, name: path.basename(caseFile.converterFile), limits, poolSize: 1 }, source);
  } catch (error) {
    if (!isTbiError(error)) throw error;
    return report([], error.message);
  }
  try {
    const valid = caseFile.cases.filter((c): c is UplinkCase & DownlinkCase => !('invalid' in c));
    const outcomes =
      caseFile.kind === 'uplink'
        ? await pool.run(
            valid.map((c): UplinkInput => ({ payload: c.payload, metadata: c.metadata })),
            encodeUplinkBatch,
          )
        : await pool.run(
            valid.map((c): DownlinkRequest => c.request),
            encodeDownlinkBatch,
          );
    let next = 0;
    const results = caseFile.cases.map((c): CaseResult => {
      if ('invalid' in c) return { name: c.name, ok: false, message: `the case is invalid: ${c.invalid}`, logs: [] };
      const outcome = outcomes[next++] as RawOutcome;
      return caseFile.kind === 'uplink' ? judgeUplink(c as UplinkCase, outcome) : judgeDownlink(c as DownlinkCase, outcome);
    });
    return report(results);
  } finally {
    pool.dispose();
  }
}

type Actual = { ok: true; value: unknown } | { ok: false; message: string };

function judge(
  name: string,
  expected: UplinkCase['expected'],
  actual: Actual,
  logs: ConverterLog[],
  expectedValue: () => Actual,
  differ: (e: unknown, a: unknown) => string | undefined,
): CaseResult {
  if ('error' in expected) {
    if (actual.ok)
      return { name, ok: false, message: `expected an error containing "${expected.error}", but the converter succeeded`, actual: actual.value, logs };
    if (!actual.message.includes(expected.error)) {
      return { name, ok: false, message: `expected an error containing "${expected.error}", got: ${actual.message}`, actual: actual.message, logs };
    }
    return { name, ok: true, actual: actual.message, logs };
  }
  if (!actual.ok) return { name, ok: false, message: `the converter failed: ${actual.message}`, actual: actual.message, logs };
  const want = expectedValue();
  if (!want.ok) return { name, ok: false, message: `the case's "expected" is not a valid result: ${want.message}`, actual: actual.value, logs };
  const difference = differ(want.value, actual.value);
  return difference === undefined ? { name, ok: true, actual: actual.value, logs } : { name, ok: false, message: difference, actual: actual.value, logs };
}

function judgeUplink(c: UplinkCase, outcome: RawOutcome): CaseResult {
  let actual: Actual;
  if (!outcome.ok) actual = { ok: false, message: outcome.error.message };
  else {
    const n = normaliseUplinkOutput(outcome.output, c.receivedAt);
    actual = n.ok ? { ok: true, value: n.records } : { ok: false, message: n.error.message };
  }
  const expectedValue = (): Actual => {
    const output = 'output' in c.expected ? c.expected.output : undefined;
    const n = normaliseUplinkOutput(asConverterOutput(output), c.receivedAt);
    return n.ok ? { ok: true, value: n.records } : { ok: false, message: n.error.message };
  };
  return judge(c.name, c.expected, actual, outcome.logs, expectedValue, (e, a) => firstDifference(e, a));
}

/** Records written with `entityType: "ASSET"` and device fields become asset output again. */
function asConverterOutput(value: unknown): unknown {
  const one = (r: unknown) => {
    if (!isPlainObject(r) || r.entityType !== 'ASSET' || r.deviceName === undefined) return r;
    const { deviceName, deviceType, entityType: _entityType, ...rest } = r;
    return { ...rest, assetName: deviceName, assetType: deviceType };
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

function judgeDownlink(c: DownlinkCase, outcome: RawOutcome): CaseResult {
  let actual: Actual;
  if (!outcome.ok) actual = { ok: false, message: outcome.error.message };
  else {
    const v = validateDownlinkOutput(outcome.output);
    actual = v.ok ? { ok: true, value: v.encoded } : { ok: false, message: v.error.message };
  }
  const expectedValue = (): Actual => {
    const v = validateDownlinkOutput('output' in c.expected ? c.expected.output : undefined);
    return v.ok ? { ok: true, value: v.encoded } : { ok: false, message: v.error.message };
  };
  // JSON data is compared as JSON, so key order and spacing do not matter.
  const differ = (e: unknown, a: unknown) => {
    const ee = e as { contentType: string; data: string };
    const aa = a as { contentType: string; data: string };
    if (ee.contentType === 'JSON' && aa.contentType === 'JSON') {
      try {
        return firstDifference({ ...ee, data: JSON.parse(ee.data) }, { ...aa, data: JSON.parse(aa.data) });
      } catch {
        // Not JSON after all: compare the text.
      }
    }
    return firstDifference(e, a);
  };
  return judge(c.name, c.expected, actual, outcome.logs, expectedValue, differ);
}
