import type { DownlinkRequest, EncodedDownlink, OutboundDownlink } from './downlink.js';
import type { ConverterFailureKind } from './errors.js';
import type { Metadata, RawMessage } from './messages.js';
import type { DeviceRecord } from './records.js';

/** Structured logger (pino-compatible): one JSON line per event. */
export interface Logger {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Label values of one metric sample. */
export type Labels = Record<string, string>;

export interface Counter {
  inc(labels?: Labels, value?: number): void;
}
export interface Gauge {
  set(labels: Labels, value: number): void;
  inc(labels?: Labels, value?: number): void;
  dec(labels?: Labels, value?: number): void;
}
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

/**
 * Prometheus metrics. Metrics made through an integration's context get an `integration` label
 * added by the host. Asking twice for the same name returns the same metric.
 */
export interface Metrics {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: readonly number[]): Histogram;
}

/** The time source; tests replace it. */
export interface Clock {
  now(): number;
}

/** Limits applied to every call of one converter. */
export interface ConverterLimits {
  /** CPU/wall time for one call (one batch), in ms. */
  timeoutMs: number;
  /** Heap of the converter's isolate, in MiB. */
  memoryMb: number;
}

/** A line a converter printed with `console.*`. */
export interface ConverterLog {
  level: 'debug' | 'info' | 'log' | 'warn' | 'error';
  message: string;
}

/** Why one message did not convert. Plain data, so it can be stored and sent over HTTP. */
export interface ConverterFailure {
  kind: ConverterFailureKind;
  message: string;
  /** Where in the converter's output the problem is, e.g. `[0].telemetry[2].ts`. */
  path?: string;
}

/** One message for an uplink converter. */
export interface UplinkInput {
  payload: Uint8Array;
  metadata: Metadata;
  /** Default timestamp for telemetry without `ts` (epoch ms). */
  receivedAt?: number;
}

/** Result for one message of a batch; the others are not affected by its failure. */
export type UplinkResult =
  | { ok: true; records: DeviceRecord[]; output: unknown; logs: ConverterLog[] }
  | { ok: false; error: ConverterFailure; logs: ConverterLog[] };

export type DownlinkResult = { ok: true; encoded: EncodedDownlink; logs: ConverterLog[] } | { ok: false; error: ConverterFailure; logs: ConverterLog[] };

/** A compiled converter. `replace` swaps the source atomically: calls in progress finish on the old one. */
export interface Converter<I, R> {
  readonly name: string;
  /** Increases with every successful `replace`. */
  readonly version: number;
  /** Runs the converter over a batch in as few isolate calls as possible. Never throws for a bad message. */
  run(batch: readonly I[]): Promise<R[]>;
  replace(source: string): Promise<void>;
  dispose(): Promise<void>;
}
export type UplinkConverter = Converter<UplinkInput, UplinkResult>;
export type DownlinkConverter = Converter<DownlinkRequest, DownlinkResult>;

/** Compiles user converters into isolated sandboxes. */
export interface ConverterSandbox {
  /** Throws `ConverterError` (kind `COMPILE`) when the source does not compile. */
  uplink(name: string, source: string, limits?: Partial<ConverterLimits>): Promise<UplinkConverter>;
  downlink(name: string, source: string, limits?: Partial<ConverterLimits>): Promise<DownlinkConverter>;
}

/** Data of one message for the platform. */
export interface IngestItem {
  integration: string;
  /** Stored once per integration: a repeated `sourceId` is skipped (redelivery). */
  sourceId?: string;
  records: DeviceRecord[];
}

/** A command for a device that the host must deliver through the integration that owns it. */
export interface PlatformCommand {
  id: string;
  deviceName: string;
  /** The integration that last carried the device, if the platform knows it. */
  integration?: string;
  msgType: DownlinkRequest['msgType'];
  msg: unknown;
  metadata: Metadata;
}

/** The IoT platform: the embedded store or ThingsBoard. */
export interface PlatformClient {
  /**
   * Stores every item in one durable step (all or nothing) and resolves only then. Throws a
   * `DeliveryError` when the platform is unavailable; the caller retries.
   */
  ingest(items: readonly IngestItem[]): Promise<{ stored: number; duplicates: number }>;
  /** Subscribes to commands for devices; returns the unsubscribe function. */
  onCommand(handler: (command: PlatformCommand) => void): () => void;
  /** Tells the platform how delivering a command ended. */
  commandResult(commandId: string, result: { ok: true } | { ok: false; error: string }): void;
  /**
   * Whether the platform itself is reachable, for the host's readiness: a platform that buffers
   * while it is away (ThingsBoard's outbox) keeps `ingest` resolving, so only this shows the
   * outage. Leave it out when `ingest` already fails while the platform is away. Since 1.2.
   */
  health?(): { status: 'up' | 'down'; detail?: string };
  /**
   * The platform's own log of what it stored, for exports (since 1.3). Present only on a
   * platform that keeps one (the embedded platform, when it was opened with readers).
   */
  log?: StoredRecordLog;
}

/** One entry of a platform's log of stored records: one device record, as one `ingest` stored it. Since 1.3. */
export interface StoredRecordEntry {
  /** Position in the log: grows with every entry, in commit order (so per device, in order too). */
  seq: number;
  /** When the platform stored it (epoch ms). */
  storedAt: number;
  /** The integration that carried it. */
  integration: string;
  /** The record as stored, without `rpcReplies`. */
  record: Omit<DeviceRecord, 'rpcReplies'>;
  /** Whether this ingest created the device (or asset). */
  created: boolean;
}

/**
 * A durable log of stored records with named readers (since 1.3). Written in the same
 * transaction as the data it describes, so a reader never sees what was not stored, nor misses
 * what was. Entries are kept until every reader has committed past them (or they are older than
 * the platform's retention for the log).
 */
export interface StoredRecordLog {
  /** Entries with `seq > after`, oldest first, at most `limit`. */
  read(after: number, limit: number): StoredRecordEntry[];
  /** The newest committed `seq` (0 while the log is empty). */
  head(): number;
  /** The `seq` a reader last committed (0 when it never did: it starts at the log's beginning). */
  cursor(reader: string): number;
  /** Durably records that `reader` has handled everything up to `seq`; resolves once it is on disk. */
  commit(reader: string, seq: number): Promise<void>;
  /** Resolves once an entry after `after` is committed, or when `signal` aborts. */
  waitFor(after: number, signal: AbortSignal): Promise<void>;
}

/** What happened to one submitted message, once it is safe to acknowledge it at its source. */
export type UplinkOutcome =
  /** Stored by the platform (possibly zero records, or a duplicate of one stored before). */
  | { status: 'stored'; records: DeviceRecord[] }
  /** Conversion failed; the message is kept in the host's dead letters. */
  | { status: 'dead-lettered'; error: ConverterFailure }
  /** Conversion failed and `deadLetters: 'caller'` was asked: the connector must dead-letter it itself. */
  | { status: 'failed'; error: ConverterFailure };

export interface SubmitOptions {
  /**
   * `host` (default): failed conversions go to the host's dead-letter table.
   * `caller`: they come back as `failed`, for a connector with a broker-side dead-letter path
   * (Kafka DLQ topic, AMQP dead-letter exchange).
   */
  deadLetters?: 'host' | 'caller';
}

/**
 * The uplink pipeline, as a connector sees it: convert in the sandbox, store, then resolve.
 *
 * **At-least-once contract.** Acknowledge a message to its source only after the promise of the
 * `submit` that carried it has resolved. While the platform is unavailable the promise waits
 * (the pipeline retries with backoff); if the host stops first it rejects with `ShutdownError`,
 * and the connector must then leave the message unacknowledged so the source redelivers it.
 *
 * @example
 * const outcomes = await ctx.uplink.submit(batch.map(toRawMessage));
 * batch.forEach((m) => m.ack()); // only now
 */
export interface UplinkService {
  submit(messages: readonly RawMessage[], options?: SubmitOptions): Promise<UplinkOutcome[]>;
  /**
   * Keeps messages the connector refuses before conversion (too large, broken framing) in the
   * host's dead letters with the connector's reason, durably; acknowledge them at the source once
   * this resolves. They can be inspected and replayed like failed conversions. Since 1.1.
   *
   * @example
   * if (payload.length > config.maxMessageBytes) await ctx.uplink.reject([message], `larger than ${config.maxMessageBytes} bytes`);
   */
  reject(messages: readonly RawMessage[], reason: string): Promise<void>;
}

/** Downlinks waiting for a device, for connectors that can only answer (HTTP). */
export interface PendingDownlinks {
  /** Removes and returns the oldest pending downlink for the device, if any. */
  take(deviceName: string): OutboundDownlink | undefined;
}

export type { HttpHandler, HttpRequestContext, HttpRequestView, HttpRouter } from './http-router.js';
export type { LatestValue, PlatformDevice, PlatformReads, PlatformView } from './platform-view.js';
