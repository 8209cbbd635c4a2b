import { DeliveryError, type IntegrationContext, type OutboundDownlink } from '@tbi/plugin-api';
import type { PulsarConfig } from './config.js';
import { connectionOptions } from './connection-options.js';
import type { ProducerConnection, PulsarDriver } from './driver/types.js';
import { RESERVED_METADATA } from './message.js';
import { parseTopic } from './topic.js';

/** Downlink metadata keys that steer the message rather than travel as properties. */
const STEERING = new Set(['topic', 'key', ...RESERVED_METADATA]);

/**
 * The downlink of a `pulsar` integration: one producer per topic, opened on first use and again
 * after it closed. A downlink goes to `metadata.topic` (else the configured topic), keyed by
 * `metadata.key`, with the other metadata as message properties; `send` resolves once the broker
 * acknowledged it and rejects with a retryable `DeliveryError` otherwise.
 */
export class PulsarSink {
  readonly #ctx: IntegrationContext<PulsarConfig>;
  readonly #driver: PulsarDriver;
  readonly #producers = new Map<string, Promise<ProducerConnection>>();
  #closed = false;
  readonly #sent;

  constructor(ctx: IntegrationContext<PulsarConfig>, driver: PulsarDriver) {
    this.#ctx = ctx;
    this.#driver = driver;
    this.#sent = ctx.metrics.counter('tbi_pulsar_downlinks_sent_total', 'Downlinks the broker acknowledged');
  }

  async send(downlink: OutboundDownlink): Promise<void> {
    if (this.#closed) throw new DeliveryError('the pulsar integration is stopping', { retryable: true });
    const metadata = downlink.encoded.metadata ?? {};
    const name = metadata.topic ?? this.#ctx.config.downlink.topic;
    if (!name) throw new DeliveryError('no downlink topic: set config.downlink.topic or metadata.topic in the downlink converter', { retryable: false });
    let topic: string;
    try {
      topic = parseTopic(name).full;
    } catch (error) {
      throw new DeliveryError((error as Error).message, { retryable: false });
    }
    const properties: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) if (!STEERING.has(k) && v !== undefined) properties[k] = String(v);
    try {
      const producer = await this.#producer(topic);
      await producer.send(
        { payload: Buffer.from(downlink.payload), ...(metadata.key ? { key: metadata.key } : {}), properties },
        this.#ctx.config.downlink.timeoutMs,
      );
      this.#sent.inc();
    } catch (error) {
      this.#ctx.logger.warn({ err: error, topic, commandId: downlink.commandId }, 'pulsar downlink failed');
      if (error instanceof DeliveryError) throw error;
      throw new DeliveryError(`sending to ${topic} failed: ${(error as Error).message}`, { cause: error, retryable: true });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const producers = [...this.#producers.values()];
    this.#producers.clear();
    await Promise.allSettled(producers.map(async (p) => (await p).close()));
  }

  #producer(topic: string): Promise<ProducerConnection> {
    let producer = this.#producers.get(topic);
    if (producer === undefined) {
      producer = connectionOptions(this.#ctx).then((options) =>
        this.#driver.producer({ ...options, topic, onClose: () => this.#producers.get(topic) === producer && this.#producers.delete(topic) }),
      );
      this.#producers.set(topic, producer);
      producer.catch(() => this.#producers.get(topic) === producer && this.#producers.delete(topic));
    }
    return producer;
  }
}
