/**
 * What the connector needs from a Pulsar client, small enough that the WebSocket API and the
 * native `pulsar-client` both fit. Message ids are opaque strings (the WebSocket API's base64 id;
 * the native id serialized), stable across redeliveries.
 */
export interface PulsarDriver {
  readonly name: string;
  /** Opens one consumer connection; resolves once subscribed, rejects with the broker's reason. */
  consumer(options: ConsumerOptions): Promise<ConsumerConnection>;
  /** Opens one producer on a topic; resolves once the broker accepted it. */
  producer(options: ProducerOptions): Promise<ProducerConnection>;
  /** Broker-side statistics of a subscription (backlog); undefined when the driver cannot tell cheaply. */
  backlog?(topic: string, subscription: string, options: ConnectionOptions): Promise<number | undefined>;
  /**
   * Opens a reader of a topic's history: the broker gives it a non-durable cursor of its own that
   * goes away with the connection, so no subscription's cursor moves. Undefined when the driver
   * cannot (then the integration cannot replay).
   */
  reader?(options: ReaderOptions): Promise<ReaderConnection>;
  /** The id of the topic's last message (entry -1 when the topic is empty). */
  lastMessageId?(topic: string, options: ConnectionOptions): Promise<MessageIdParts>;
  /** The id of the first entry published at or after `time` (epoch ms); one past the last entry when none is. */
  messageIdAt?(topic: string, time: number, options: ConnectionOptions): Promise<MessageIdParts>;
}

/** A message id's parts. `batch` is -1 for a message that is not in a batch. */
export interface MessageIdParts {
  ledger: number;
  entry: number;
  batch: number;
  /** Messages in the message's batch, when the id tells. */
  batchSize?: number;
}

export interface ReaderOptions extends ConnectionOptions {
  topic: string;
  /** The reader starts after this message (exclusive; with a batch index, inside its batch), or at the topic's first message. */
  startAfter: MessageIdParts | 'earliest';
  /** Messages the broker sends ahead; it sends more as `next()` frees room. */
  receiverQueueSize: number;
  /** Shown in the topic's stats as the reader's consumer name. */
  name: string;
  onMessage(message: ReceivedMessage): void;
  /** The connection is gone (not after `close()`). */
  onClose(error: Error): void;
}

export interface ReaderConnection {
  /** Frees room for one more message (the reader acknowledges nothing: flow control only). */
  next(messageId: string): void;
  close(): Promise<void>;
}

export interface ConnectionOptions {
  /** The JWT to present, read anew for every connection. */
  token?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
}

export interface ConsumerOptions extends ConnectionOptions {
  topic: string;
  subscription: string;
  subscriptionType: 'Exclusive' | 'Shared' | 'Failover' | 'Key_Shared';
  initialPosition: 'Earliest' | 'Latest';
  receiverQueueSize: number;
  negativeAckRedeliveryDelayMs: number;
  /** Broker dead-letter policy: after this many redeliveries a negatively acknowledged message goes to `deadLetterTopic`. */
  deadLetter?: { maxRedeliverCount: number; topic: string };
  onMessage(message: ReceivedMessage): void;
  /** The connection is gone (not after `close()`); its unacknowledged messages come again. */
  onClose(error: Error): void;
}

export interface ReceivedMessage {
  messageId: string;
  topic: string;
  payload: Buffer;
  key?: string;
  properties: Record<string, string>;
  publishTime?: number;
  eventTime?: number;
  redeliveryCount: number;
}

export interface ConsumerConnection {
  /** Pipelined: does not wait for the broker. */
  ack(messageId: string): void;
  negativeAck(messageId: string): void;
  close(): Promise<void>;
}

export interface ProducerOptions extends ConnectionOptions {
  topic: string;
  onClose(error: Error): void;
}

export interface OutgoingMessage {
  payload: Buffer;
  key?: string;
  properties?: Record<string, string>;
}

export interface ProducerConnection {
  /** Resolves with the message id once the broker acknowledged (persisted) the message. */
  send(message: OutgoingMessage, timeoutMs: number): Promise<string>;
  close(): Promise<void>;
}

/** A refusal the broker gave when connecting (auth, missing namespace): retrying as it is will not help. */
export class PulsarConnectError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'PulsarConnectError';
  }
}

/** Type guard for `PulsarConnectError`. */
export function isPulsarConnectError(error: unknown): error is PulsarConnectError {
  return error instanceof Error && error.name === 'PulsarConnectError';
}
