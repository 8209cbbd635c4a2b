import { DeliveryError, type Logger, type OutboundDownlink } from '@tbi/plugin-api';
import type { DownlinkConfig } from './config.js';
import type { ConnectionKeeper } from './connection-keeper.js';
import { downlinkPublish, type DownlinkPublish } from './downlink-message.js';
import type { ChannelDriver, ConnectionDriver } from './driver/types.js';

/**
 * The downlink of a `rabbitmq` integration: publishes each downlink on a confirm channel with
 * `mandatory`, so `send` resolves only once the broker confirmed it, and rejects with a
 * `DeliveryError` when it is nacked, returned as unroutable, not confirmed in `timeoutMs`, or the
 * broker is not connected. The channel is opened on first use per connection; a channel error
 * (such as a missing exchange) fails that downlink and the next one opens a new channel, without
 * disturbing the consumers.
 */
export class RabbitmqSink {
  readonly #config: DownlinkConfig;
  readonly #keeper: ConnectionKeeper;
  readonly #logger: Logger;
  #channel: { connection: ConnectionDriver; channel: Promise<ChannelDriver> } | undefined;
  #closed = false;

  constructor(config: DownlinkConfig, keeper: ConnectionKeeper, logger: Logger) {
    this.#config = config;
    this.#keeper = keeper;
    this.#logger = logger;
  }

  async send(downlink: OutboundDownlink): Promise<void> {
    if (this.#closed) throw new DeliveryError('the rabbitmq integration is stopping', { retryable: true });
    const publish = downlinkPublish(downlink, this.#config);
    const channel = await this.#confirmChannel();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        channel.publish(publish.exchange, publish.routingKey, publish.body, publish.properties),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new DeliveryError(`not confirmed by the broker within ${this.#config.timeoutMs} ms`, { retryable: true })),
            this.#config.timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      this.#logger.warn({ err: error, exchange: publish.exchange, routingKey: publish.routingKey, commandId: downlink.commandId }, 'rabbitmq downlink failed');
      throw withContext(error, publish);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const current = this.#channel;
    this.#channel = undefined;
    await current?.channel.then((c) => c.close()).catch(() => {});
  }

  #confirmChannel(): Promise<ChannelDriver> {
    const connection = this.#keeper.connection;
    if (connection === undefined) {
      return Promise.reject(
        new DeliveryError(`not connected to ${this.#keeper.broker}: ${this.#keeper.lastError?.message ?? 'connecting'}`, { retryable: true }),
      );
    }
    if (this.#channel?.connection !== connection) {
      const entry = { connection, channel: connection.confirmChannel() };
      this.#channel = entry;
      entry.channel.then(
        (c) =>
          c.onClose(() => {
            if (this.#channel === entry) this.#channel = undefined;
          }),
        () => {
          if (this.#channel === entry) this.#channel = undefined;
        },
      );
    }
    return this.#channel.channel;
  }
}

function withContext(error: unknown, p: DownlinkPublish): DeliveryError {
  if (error instanceof DeliveryError) return error;
  return new DeliveryError(`publishing to exchange "${p.exchange}" with routing key "${p.routingKey}" failed: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
    retryable: true,
    context: { exchange: p.exchange, routingKey: p.routingKey },
  });
}
