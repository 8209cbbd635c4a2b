import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import { DeliveryError } from '@tbi/plugin-api';
import { RabbitmqConnectError, type ConnectFailureKind } from '../errors.js';
import type { AmqpDriver, ChannelDriver, ConnectionDriver, ConnectionOptions, Delivery, MessageProperties, TableValue } from './types.js';

/** Header that ties a returned (unroutable) message to its publish; removed from nothing, harmless to consumers. */
const PUBLISH_ID = 'x-tbi-publish-id';

/** The driver on amqplib: plain connections and channels; recovery is the source's job. */
export function amqplibDriver(): AmqpDriver {
  return {
    async connect(o: ConnectionOptions, name: string): Promise<ConnectionDriver> {
      const connecting = amqp.connect(
        {
          protocol: o.tls ? 'amqps' : 'amqp',
          hostname: o.host,
          port: o.port,
          vhost: o.vhost,
          username: o.username,
          password: o.password,
          heartbeat: o.heartbeatSec,
        },
        { timeout: o.connectionTimeoutMs, clientProperties: { connection_name: name }, ...(o.tls ?? {}), ...(o.tls?.servername ? {} : { servername: o.host }) },
      );
      // amqplib's own timeout is a socket idle timeout: a socket that fails mid-handshake (a
      // broker shutting down) never settles its promise. Bound the whole handshake.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`connect ETIMEDOUT: no AMQP handshake within ${o.connectionTimeoutMs} ms`)), o.connectionTimeoutMs);
      });
      let model: ChannelModel;
      try {
        model = await Promise.race([connecting, deadline]);
      } catch (cause) {
        connecting.then((late) => late.close()).catch(() => {});
        throw connectError(cause, o);
      } finally {
        clearTimeout(timer);
      }
      return new AmqplibConnection(model);
    },
  };
}

class AmqplibConnection implements ConnectionDriver {
  #closing = false;
  constructor(readonly model: ChannelModel) {
    // Without a listener an 'error' event would crash the process; 'close' follows with the reason.
    model.on('error', () => {});
  }
  async channel(): Promise<ChannelDriver> {
    return new AmqplibChannel(await this.model.createChannel(), false);
  }
  async confirmChannel(): Promise<ChannelDriver> {
    return new AmqplibChannel(await this.model.createConfirmChannel(), true);
  }
  onClose(listener: (error: Error | undefined) => void): void {
    this.model.once('close', (error?: Error) => listener(this.#closing ? undefined : (error ?? new Error('connection closed by the broker'))));
  }
  onBlocked(listener: (blocked: boolean, reason?: string) => void): void {
    this.model.on('blocked', (reason: string) => listener(true, reason));
    this.model.on('unblocked', () => listener(false));
  }
  async close(): Promise<void> {
    this.#closing = true;
    await this.model.close().catch(() => {});
  }
}

class AmqplibChannel implements ChannelDriver {
  readonly #ch: Channel;
  readonly #confirm: boolean;
  #closeError: Error | undefined;
  #closed = false;
  #nextId = 0;
  readonly #returned = new Set<string>();
  /** amqplib's ack/nack take a message; only its delivery tag is read. */
  static #tag = (deliveryTag: number) => ({ fields: { deliveryTag } }) as Message;

  constructor(ch: Channel, confirm: boolean) {
    this.#ch = ch;
    this.#confirm = confirm;
    ch.on('error', (error: Error) => (this.#closeError = error));
    ch.on('close', () => (this.#closed = true));
    ch.on('return', (m: Message) => {
      const id = m.properties.headers?.[PUBLISH_ID];
      if (typeof id === 'string') this.#returned.add(id);
    });
  }
  async declareExchange(e: Parameters<ChannelDriver['declareExchange']>[0]) {
    await this.#ch.assertExchange(e.name, e.type, { durable: e.durable, autoDelete: e.autoDelete, arguments: e.arguments });
  }
  async declareQueue(q: Parameters<ChannelDriver['declareQueue']>[0]) {
    await this.#ch.assertQueue(q.name, { durable: q.durable, exclusive: q.exclusive, autoDelete: q.autoDelete, arguments: q.arguments });
  }
  async bindQueue(queue: string, exchange: string, routingKey: string, args: Record<string, TableValue>) {
    await this.#ch.bindQueue(queue, exchange, routingKey, args);
  }
  async prefetch(count: number) {
    await this.#ch.prefetch(count, false);
  }
  async consume(
    queue: string,
    onDelivery: (d: Delivery) => void,
    options: { consumerTag?: string; arguments?: Record<string, TableValue>; onCancel?: () => void },
  ) {
    const reply = await this.#ch.consume(
      queue,
      (m: ConsumeMessage | null) => {
        if (m === null) return options.onCancel?.();
        onDelivery({
          queue,
          deliveryTag: m.fields.deliveryTag,
          redelivered: m.fields.redelivered,
          exchange: m.fields.exchange,
          routingKey: m.fields.routingKey,
          body: m.content,
          properties: m.properties as MessageProperties,
        });
      },
      { noAck: false, ...(options.consumerTag ? { consumerTag: options.consumerTag } : {}), ...(options.arguments ? { arguments: options.arguments } : {}) },
    );
    return reply.consumerTag;
  }
  ack(deliveryTag: number, multiple: boolean) {
    if (!this.#closed) this.#ch.ack(AmqplibChannel.#tag(deliveryTag), multiple);
  }
  nack(deliveryTag: number, multiple: boolean, requeue: boolean) {
    if (!this.#closed) this.#ch.nack(AmqplibChannel.#tag(deliveryTag), multiple, requeue);
  }
  publish(exchange: string, routingKey: string, body: Buffer, properties: MessageProperties & { mandatory?: boolean }): Promise<void> {
    if (this.#closed) return Promise.reject(new DeliveryError(`channel closed: ${this.#closeError?.message ?? 'unknown reason'}`, { retryable: true }));
    if (!this.#confirm) {
      this.#ch.publish(exchange, routingKey, body, properties as amqp.Options.Publish);
      return Promise.resolve();
    }
    const id = String(++this.#nextId);
    const headers = properties.mandatory ? { ...properties.headers, [PUBLISH_ID]: id } : properties.headers;
    return new Promise<void>((resolve, reject) => {
      (this.#ch as ConfirmChannel).publish(exchange, routingKey, body, { ...properties, headers } as amqp.Options.Publish, (err: unknown) => {
        // The broker sends basic.return before the basic.ack of an unroutable mandatory message.
        const returned = this.#returned.delete(id);
        if (err) {
          const why = this.#closeError?.message ?? String((err as Error)?.message ?? err);
          reject(
            new DeliveryError(this.#closeError ? `the broker closed the channel: ${why}` : `the broker refused the message (basic.nack): ${why}`, {
              retryable: true,
              context: { exchange, routingKey },
            }),
          );
        } else if (returned)
          reject(
            new DeliveryError(`unroutable: no queue is bound to exchange "${exchange}" for routing key "${routingKey}"`, {
              retryable: false,
              context: { exchange, routingKey },
            }),
          );
        else resolve();
      });
    });
  }
  onClose(listener: (error: Error | undefined) => void) {
    this.#ch.once('close', () => listener(this.#closeError));
  }
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ch.close().catch(() => {});
  }
}

/** Names broker, vhost and user, and tells a refused login or vhost from an unreachable broker. */
function connectError(cause: unknown, o: ConnectionOptions): RabbitmqConnectError {
  const text = String((cause as Error)?.message ?? cause);
  const code = (cause as { code?: string })?.code ?? '';
  let kind: ConnectFailureKind = 'OTHER';
  if (/ACCESS[-_]REFUSED|403|PLAIN login refused|auth/i.test(text)) kind = 'AUTH';
  // amqplib drops the reply text of a connection.close sent in answer to connection.open; the
  // broker sends that only when it refuses the vhost (a wrong login is refused one step earlier).
  else if (/NOT[-_]ALLOWED|530|vhost|Expected ConnectionOpenOk; got <ConnectionClose/i.test(text)) kind = 'VHOST';
  else if (/certificate|SSL|TLS|self[- ]signed|CERT_/i.test(`${code} ${text}`)) kind = 'TLS';
  else if (/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|ETIMEDOUT|EPIPE|timeout|socket/i.test(`${code} ${text}`)) kind = 'NETWORK';
  const where = `RabbitMQ at ${o.tls ? 'amqps' : 'amqp'}://${o.host}:${o.port}, vhost "${o.vhost}", user "${o.username}"`;
  const what =
    kind === 'AUTH'
      ? 'refused the login (wrong username or password)'
      : kind === 'VHOST'
        ? 'refused access to the vhost (it does not exist, or the user has no permission on it)'
        : kind === 'TLS'
          ? 'could not be reached over TLS'
          : 'could not be reached';
  return new RabbitmqConnectError(kind, `${where} ${what}: ${text}`, { cause, context: { host: o.host, port: o.port, vhost: o.vhost, username: o.username } });
}
