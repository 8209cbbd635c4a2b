import type { Clock, Logger } from '@tbi/plugin-api';
import type { RecordLogOptions } from './record-log.js';

/** Options of `openEmbeddedPlatform`. */
export interface EmbeddedPlatformOptions {
  /** Directory of the database (`platform.db` and its WAL files); created if missing. */
  dataDir: string;
  /** Telemetry older than this many days is deleted in the background. Unset or 0: kept forever. */
  telemetryTtlDays?: number;
  /** How often retention runs, in ms (default one hour). The first run is one interval after opening. */
  retentionIntervalMs?: number;
  /**
   * How long the source positions of stored messages (and finished commands) are remembered for
   * duplicate detection, in days (default 7, Kafka's default retention).
   */
  dedupRetentionDays?: number;
  /**
   * How long a write waits for a lock held by another connection before failing with a retryable
   * `DeliveryError`, in ms (default 100). Short on purpose: `node:sqlite` waits synchronously,
   * blocking its thread (for the commands and attributes written on the main thread, the event
   * loop), while the pipeline's own backoff waits asynchronously.
   */
  busyTimeoutMs?: number;
  /** Default and maximum timeout of two-way RPCs, in ms (defaults 10 000 and 600 000). */
  rpcTimeoutMs?: { default?: number; max?: number };
  /**
   * Keep the log of stored records that exports read (`PlatformClient.log`), for these readers.
   * Without it (or with no readers) ingest writes no log.
   */
  recordLog?: RecordLogOptions;
  clock?: Clock;
  logger?: Logger;
}

/** A device or asset as the platform knows it. */
export interface Device {
  name: string;
  entityType: 'DEVICE' | 'ASSET';
  /** Device (or asset) profile name, set when the entity was first seen. */
  type: string;
  customerName: string | null;
  groupName: string | null;
  /** The integration that last carried data of this device: its downlinks go there. */
  integration: string | null;
  /** When the platform first saw it (epoch ms). */
  createdTime: number;
  /** When the platform last stored data for it (epoch ms). */
  lastSeen: number;
}

/** One page of devices. */
export interface DevicePage {
  data: Device[];
  /** Devices matching the filter, over all pages. */
  total: number;
  hasNext: boolean;
}

export interface ListDevicesQuery {
  /** Case-insensitive substring of the name. */
  search?: string;
  /** Exact device type (profile name). */
  type?: string;
  /** Page size, 1–1000 (default 100). */
  limit?: number;
  offset?: number;
}

/** One stored telemetry value. */
export interface TelemetryPoint {
  ts: number;
  value: unknown;
}

/** Aggregation of a telemetry query; `none` returns the raw values. */
export type Aggregation = 'min' | 'max' | 'avg' | 'count' | 'none';

export interface TelemetryQuery {
  /** Start of the range, inclusive (epoch ms). */
  from: number;
  /** End of the range, exclusive (epoch ms). */
  to: number;
  /** Most points (or buckets) returned: default 100 raw values or 10 000 buckets; at most 100 000. */
  limit?: number;
  /** Bucket width for aggregation, in ms; default: the whole range as one bucket. */
  intervalMs?: number;
  agg?: Aggregation;
  /** By timestamp; default `desc` (newest first), as ThingsBoard. */
  order?: 'asc' | 'desc';
}

/**
 * A value of a telemetry query. Aggregated points carry the start of their bucket as `ts` and the
 * number of values in it as `count`; min/max/avg consider numbers only, `count` every value.
 */
export interface AggregatedPoint extends TelemetryPoint {
  count: number;
}

export type AttributeScope = 'client' | 'shared' | 'server';

/** One attribute as read back. */
export interface Attribute {
  key: string;
  value: unknown;
  /** When it was last written (epoch ms). */
  lastUpdateTs: number;
}

export type CommandStatus = 'queued' | 'delivered' | 'failed' | 'replied' | 'expired';

/** A command for a device as stored (an RPC call or an attribute update). */
export interface CommandRecord {
  id: string;
  deviceName: string;
  msgType: string;
  msg: unknown;
  metadata: Record<string, string>;
  oneway: boolean;
  status: CommandStatus;
  createdTime: number;
  updatedTime: number;
  expiresAt: number | null;
  error: string | null;
  response: unknown;
}

export interface RpcRequest {
  method: string;
  params?: unknown;
  /** One-way: resolves as soon as the command is stored and handed to the host. Default false. */
  oneway?: boolean;
  /** How long a two-way call waits for the device's reply (default 10 s). */
  timeoutMs?: number;
}

export interface RpcResult {
  /** The command id, also `metadata.requestUUID` of the downlink; the device's reply must carry it. */
  requestId: string;
  /** The device's answer (two-way only). */
  response?: unknown;
}

/** What a retention run deleted. */
export interface RetentionResult {
  telemetry: number;
  processedMessages: number;
  commands: number;
}
