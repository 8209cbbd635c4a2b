// The small surface the plugin needs from an AMQP 0-9-1 client. The plugin codes against these
// types only; `amqplib.ts` implements them with amqplib (see README: client choice).

/** Where and as whom to connect. */
export interface ConnectionOptions {
  host: string;
  port: number;
  vhost: string;
  username: string;
  password: string;
  heartbeatSec: number;
  connectionTimeoutMs: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; passphrase?: string; rejectUnauthorized: boolean; servername?: string };
}

/** AMQP field-table values as the plugin uses them. */
export type TableValue = string | number | boolean | bigint | null | undefined | Buffer | TableValue[] | { [key: string]: TableValue };

/** Message properties (basic.properties), the names amqplib uses. */
export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: Record<string, TableValue>;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
}

/** One delivery from basic.consume. */
export interface Delivery {
  queue: string;
  deliveryTag: number;
  redelivered: boolean;
  exchange: string;
  routingKey: string;
  body: Buffer;
  properties: MessageProperties;
}

export interface ExchangeDeclaration {
  name: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  arguments: Record<string, TableValue>;
}

export interface QueueDeclaration {
  name: string;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: Record<string, TableValue>;
}

/** A channel. Any channel error closes it; `onClose` tells why. */
export interface ChannelDriver {
  declareExchange(e: ExchangeDeclaration): Promise<void>;
  declareQueue(q: QueueDeclaration): Promise<void>;
  bindQueue(queue: string, exchange: string, routingKey: string, args: Record<string, TableValue>): Promise<void>;
  /** basic.qos per consumer. */
  prefetch(count: number): Promise<void>;
  /** Starts a consumer; resolves with its tag. `onCancel` runs when the broker cancels it (queue deleted). */
  consume(
    queue: string,
    onDelivery: (d: Delivery) => void,
    options: { consumerTag?: string; arguments?: Record<string, TableValue>; onCancel?: () => void },
  ): Promise<string>;
  ack(deliveryTag: number, multiple: boolean): void;
  nack(deliveryTag: number, multiple: boolean, requeue: boolean): void;
  /** Publishes; on a confirm channel resolves once confirmed, rejects when nacked or returned (`mandatory`). */
  publish(exchange: string, routingKey: string, body: Buffer, properties: MessageProperties & { mandatory?: boolean }): Promise<void>;
  onClose(listener: (error: Error | undefined) => void): void;
  close(): Promise<void>;
}

/** One AMQP connection. */
export interface ConnectionDriver {
  channel(): Promise<ChannelDriver>;
  /** A channel in confirm mode, for publishing. */
  confirmChannel(): Promise<ChannelDriver>;
  /** Runs once when the connection ends, with the error unless it was closed by `close`. */
  onClose(listener: (error: Error | undefined) => void): void;
  /** Flow control from the broker (memory or disk alarm): publishing blocks while true. */
  onBlocked(listener: (blocked: boolean, reason?: string) => void): void;
  close(): Promise<void>;
}

/** Makes connections. */
export interface AmqpDriver {
  /** Rejects with a `RabbitmqConnectError` (see errors) whose `kind` tells auth, vhost and network apart. */
  connect(options: ConnectionOptions, name: string): Promise<ConnectionDriver>;
}
