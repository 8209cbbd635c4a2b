import type { RawMessage } from './messages.js';

/**
 * A point in a source's history: a time (epoch ms; the source's own timestamp — Kafka record
 * timestamp, Pulsar publish time, RabbitMQ stream chunk time) or an offset in the source's own
 * notation (`"1200"` for a one-partition topic, `"0:1200,1:900"` per partition, a Pulsar message id).
 */
export type ReplayPoint = { time: number } | { offset: string };

/** What `Integration.replay` is asked to read again. Since 1.3. */
export interface ReplayRequest {
  /** First message, inclusive. */
  from: ReplayPoint;
  /**
   * Where to stop, exclusive. Default: the end of the source as it was when the replay started,
   * so that a replay ends even while live messages keep arriving.
   */
  to?: ReplayPoint;
  /**
   * The `checkpoint` of the last batch an earlier run of this replay stored (after a host
   * restart): continue after it instead of at `from`.
   */
  resume?: string;
  /** Most messages in one batch (the host's share for a replay; default 500). */
  maxBatch: number;
  /** Aborted when the replay is cancelled or the integration stops. */
  signal: AbortSignal;
}

/** One batch of history, in source order. */
export interface ReplayBatch {
  /** Messages for the integration's current uplink converter, as `submit` would get them. */
  messages: RawMessage[];
  /**
   * Where to resume after this batch, as a string the connector parses again (JSON is fine).
   * The host stores it durably once the batch is stored.
   */
  checkpoint: string;
  /** The position for people, e.g. `partition 0 offset 41200 of 100000`. */
  position: string;
  /** Messages in the whole range, when the source can tell (for a percentage). */
  total?: number;
}

/**
 * A connector's reader of its source's history (since 1.3), separate from the live consumer:
 * it must not move what the live consumer has acknowledged (a Kafka group's committed offsets,
 * a Pulsar subscription's cursor) and acknowledges nothing at the source. The host runs each
 * batch through the current converter and stores it before it asks for the next; ending the
 * iteration early (`return`) must release the reader.
 *
 * @example
 * async *replay(request) {
 *   const reader = await openReader(request.resume ?? request.from);
 *   try { for await (const chunk of reader) yield { messages: chunk.map(toRawMessage), checkpoint: chunk.next, position: chunk.label }; }
 *   finally { await reader.close(); }
 * }
 */
export type ReplaySource = (request: ReplayRequest) => AsyncIterable<ReplayBatch>;
