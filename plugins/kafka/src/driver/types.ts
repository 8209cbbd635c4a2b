// The small surface the plugin needs from a Kafka client. The plugin codes against these types
// only; `platformatic.ts` implements them with @platformatic/kafka (see README: client choice).
import type { CommitPoint, TopicPartition } from '../offset-tracker.js';

/** One record as the consumer delivered it. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  /** Leader epoch of the record's batch, sent with the offset commit (KIP-320). */
  leaderEpoch: number;
  key: Buffer | undefined;
  value: Buffer | undefined;
  /** Epoch ms. */
  timestamp: bigint;
  headers: Array<[string, Buffer]>;
  /** Group generation under which the record was fetched. */
  generation: number;
}

/** What the consumer tells the plugin. Calls happen in delivery order. */
export interface ConsumerEvents {
  /** Records of one fetch, in offset order per partition. */
  records(records: ConsumedRecord[]): void;
  /** The group assignment after a (re)join: every partition this member now owns. */
  assigned(partitions: TopicPartition[], generation: number): void;
  /** The consumer stream was re-created after an error: it reads again from the committed offsets. */
  restarted(error: Error): void;
}

/** Options of a consumer in a group. */
export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxBytes: number;
  maxBytesPerPartition: number;
  maxWaitMs: number;
}

/** A group consumer with manual commits. */
export interface ConsumerDriver {
  /** Joins the group and starts delivering to `events`; resolves once consuming. */
  start(events: ConsumerEvents): Promise<void>;
  /** Switches to another topic list (topic pattern refresh): re-creates the stream. */
  setTopics(topics: string[]): Promise<void>;
  /** Stops fetching (back-pressure); records already fetched may still arrive. */
  pause(): void;
  resume(): void;
  /** Commits offsets (next offset to read). Rejects when the broker refused them. */
  commit(points: readonly CommitPoint[]): Promise<void>;
  /** End offsets (high watermarks) of the given partitions, for lag. */
  endOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, bigint>>;
  /** Whether the consumer is a member of its group and connected. */
  isActive(): boolean;
  /** Leaves the group and closes connections. */
  close(): Promise<void>;
}

/** A record to produce. */
export interface ProducerRecord {
  topic: string;
  key?: Buffer;
  value: Buffer;
  headers?: Array<[string, Buffer]>;
}

/** Options of the producer. */
export interface ProducerOptions {
  acks: 'all' | 'leader' | 'none';
  idempotent: boolean;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /** Let the broker create a topic the producer names that does not exist (its `auto.create.topics.enable`). */
  autoCreateTopics: boolean;
}

/** A producer; `send` resolves when the broker acknowledged every record (per `acks`). */
export interface ProducerDriver {
  send(records: readonly ProducerRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** Offsets of one partition at a point in its log. */
export interface PartitionOffset extends TopicPartition {
  /** -1 when no record is at or after the time asked for. */
  offset: bigint;
}

/** Options of a history reader (a replay). */
export interface HistoryReaderOptions {
  /** A group of its own, made for this reader and never committed to: the live group stays where it is. */
  groupId: string;
  maxBytes: number;
  maxBytesPerPartition: number;
  maxWaitMs: number;
  /** Records held before fetching pauses until `read` takes some. */
  highWater: number;
}

/** Reads partitions from given offsets, outside the live consumer's group; commits nothing. */
export interface HistoryReader {
  /**
   * Every partition of `topics` at a point: the log start, the end (high watermark), or the
   * first offset whose timestamp is at or after `{time}` (epoch ms; ListOffsets by timestamp).
   */
  offsets(topics: readonly string[], at: 'earliest' | 'latest' | { time: number }): Promise<PartitionOffset[]>;
  /** Starts fetching every partition of `topics` from `from` (each one must be named). */
  start(topics: readonly string[], from: readonly PartitionOffset[]): Promise<void>;
  /** Up to `max` fetched records, in offset order per partition; waits while none are there. Rejects when aborted or when fetching failed. */
  read(max: number, signal: AbortSignal): Promise<ConsumedRecord[]>;
  /** Stops fetching, leaves and deletes the reader's group. */
  close(): Promise<void>;
}

/** Creates clients; one per integration instance. */
export interface KafkaDriver {
  consumer(options: ConsumerOptions): ConsumerDriver;
  producer(options: ProducerOptions): ProducerDriver;
  /** A reader of history for a replay, with connections of its own. */
  historyReader(options: HistoryReaderOptions): HistoryReader;
  /** Every topic name of the cluster (for topic patterns). */
  listTopics(): Promise<string[]>;
  /** Which of `topics` do not exist; one attempt, so it fails fast when no broker answers. */
  missingTopics(topics: readonly string[]): Promise<string[]>;
  /** Creates topics (-1: the broker's default); one that exists by now is not an error. */
  createTopics(topics: readonly string[], options: { partitions: number; replicationFactor: number }): Promise<void>;
  /** One line naming the brokers and the cause, for health and logs. */
  describeError(error: unknown): string;
  /** Whether an error may go away by itself (broker unreachable, timeout), unlike a refused login. */
  isTransient(error: unknown): boolean;
  close(): Promise<void>;
}
