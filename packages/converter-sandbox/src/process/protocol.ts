import type { ConverterFailure, ConverterLimits } from '@tbi/plugin-api';
import type { Piece } from '../run-batch.js';
import type { TestConverterOptions, TestConverterReport } from '../test-converter.js';

/**
 * Messages between the host and a converter process (over `child_process.fork`'s IPC channel
 * with `serialization: 'advanced'`, so payload bytes cross as they are). Every request carries a
 * number `re` that its reply repeats.
 */
export type HostRequest =
  | { op: 'create'; re: number; id: number; kind: 'uplink' | 'downlink'; name: string; source: string; limits: ConverterLimits }
  | { op: 'replace'; re: number; id: number; source: string }
  | { op: 'dispose'; re: number; id: number }
  /**
   * One part of a batch (the host cuts batches as the in-process pool does), encoded by
   * `encodeUplinkBatch` / `encodeDownlinkBatch` and handed to an isolate as it is; the reply's
   * `pieces` are the isolate's result text, decoded by the host.
   */
  | { op: 'run'; re: number; id: number; bytes: Uint8Array | undefined; itemsJson: string; count: number }
  | { op: 'test'; re: number; options: TestConverterOptions };

/** Distributes `Omit` over the union, so each request keeps its own fields. */
export type RequestBody = HostRequest extends infer R ? (R extends HostRequest ? Omit<R, 're'> : never) : never;

export type ChildMessage =
  | { op: 'reply'; re: number; ok: true; pieces?: Piece[]; report?: TestConverterReport }
  | { op: 'reply'; re: number; ok: false; error: ConverterFailure }
  /** Sent every second, so the host can tell a live process from a stuck one. */
  | { op: 'beat' }
  /** The process is about to end itself (or asks to be killed): why. */
  | { op: 'fatal'; cause: CrashCause; message: string };

/** Why a converter process ended; `disposed` is the host's own doing and not a crash. */
export type CrashCause = 'abort' | 'exit' | 'hang' | 'memory' | 'catastrophic' | 'disposed';

/** Settings a converter process is started with (JSON in argv[2]). */
export interface ChildSettings {
  /** Isolates per converter in this process. */
  poolSize: number;
  /** A call into an isolate running longer than `timeoutMs × hangFactor + hangMarginMs` is a hang. */
  hangFactor: number;
  hangMarginMs: number;
  /** Largest result text of one batch, in characters; bigger outputs fail with INVALID_OUTPUT. */
  maxReplyChars: number;
}
