import {
  ConverterError,
  type ConverterFailure,
  type ConverterLimits,
  type ConverterLog,
  type DeviceRecord,
  type DownlinkRequest,
  type EncodedDownlink,
} from '@tbi/plugin-api';
import { encodeDownlinkBatch, encodeUplinkBatch, type RawOutcome } from './batch-codec.js';
import { resolveLimits } from './limits.js';
import { normaliseUplinkOutput } from './normalise-uplink.js';
import { createPool } from './sandbox-converter.js';
import { validateDownlinkOutput } from './validate-downlink.js';
import { testConverterInChild } from './process/test-in-child.js';

/** Input of `testConverter`. */
export interface TestConverterOptions {
  kind: 'uplink' | 'downlink';
  source: string;
  /** Uplink: the raw message (default: empty). */
  payload?: Uint8Array;
  /** Uplink: the message metadata (default: none). */
  metadata?: Record<string, string>;
  /** Uplink: default telemetry timestamp (default: now). */
  receivedAt?: number;
  /** Downlink: what the encoder is called with (default: an empty ATTRIBUTES_UPDATED). */
  request?: DownlinkRequest;
  limits?: Partial<ConverterLimits>;
  /** Shown in error messages (default "converter"). */
  name?: string;
}

/** What `testConverter` found: the script's own output, the normalised result, logs and time. */
export interface TestConverterReport {
  ok: boolean;
  /** What the script returned (as JSON would carry it), when it returned. */
  output?: unknown;
  /** Uplink: the normalised device records. */
  records?: DeviceRecord[];
  /** Downlink: the validated downlink. */
  encoded?: EncodedDownlink;
  error?: ConverterFailure;
  logs: ConverterLog[];
  /** Time of the conversion call itself (compiling not included), in ms. */
  durationMs: number;
}

const EMPTY_REQUEST: DownlinkRequest = { msg: {}, metadata: {}, msgType: 'ATTRIBUTES_UPDATED', integrationMetadata: {} };

/**
 * Runs a converter once on a sample in a fresh, throw-away isolate inside a converter process of
 * its own, the way `tbi convert` and `POST /api/converters/test` do: a converter that aborts,
 * hangs or exhausts memory ends that process, never the caller. Never throws for a bad
 * converter: compile errors, exceptions, timeouts, crashes and invalid output come back as `error`.
 *
 * @example
 * const report = await testConverter({ kind: 'uplink', source, payload: new TextEncoder().encode('{"t":1}') });
 * if (!report.ok) console.error(report.error?.message);
 */
export function testConverter(options: TestConverterOptions): Promise<TestConverterReport> {
  return testConverterInChild(options);
}

/** `testConverter` in the calling process (what the converter process itself runs). */
export async function testConverterInProcess(options: TestConverterOptions): Promise<TestConverterReport> {
  const limits = resolveLimits(undefined, options.limits);
  let pool;
  try {
    pool = await createPool({ kind: options.kind, name: options.name ?? 'converter', limits, poolSize: 1 }, options.source);
  } catch (error) {
    if (!(error instanceof ConverterError)) throw error;
    return { ok: false, error: { kind: error.kind, message: error.message }, logs: [], durationMs: 0 };
  }
  try {
    const started = performance.now();
    if (options.kind === 'uplink') {
      const input = { payload: options.payload ?? new Uint8Array(0), metadata: options.metadata ?? {} };
      const [outcome] = await pool.run([input], encodeUplinkBatch);
      const durationMs = performance.now() - started;
      return uplinkReport(outcome as RawOutcome, options.receivedAt ?? Date.now(), durationMs);
    }
    const [outcome] = await pool.run([options.request ?? EMPTY_REQUEST], encodeDownlinkBatch);
    const durationMs = performance.now() - started;
    return downlinkReport(outcome as RawOutcome, durationMs);
  } finally {
    pool.dispose();
  }
}

function uplinkReport(outcome: RawOutcome, receivedAt: number, durationMs: number): TestConverterReport {
  if (!outcome.ok) return { ok: false, error: outcome.error, logs: outcome.logs, durationMs };
  const normalised = normaliseUplinkOutput(outcome.output, receivedAt);
  if (!normalised.ok) return { ok: false, output: outcome.output, error: normalised.error, logs: outcome.logs, durationMs };
  return { ok: true, output: outcome.output, records: normalised.records, logs: outcome.logs, durationMs };
}

function downlinkReport(outcome: RawOutcome, durationMs: number): TestConverterReport {
  if (!outcome.ok) return { ok: false, error: outcome.error, logs: outcome.logs, durationMs };
  const validated = validateDownlinkOutput(outcome.output);
  if (!validated.ok) return { ok: false, output: outcome.output, error: validated.error, logs: outcome.logs, durationMs };
  return { ok: true, output: outcome.output, encoded: validated.encoded, logs: outcome.logs, durationMs };
}
