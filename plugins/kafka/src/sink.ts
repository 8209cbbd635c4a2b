import { DeliveryError, type Logger, type OutboundDownlink } from '@tbi/plugin-api';
import type { DownlinkConfig } from './config.js';
import { downlinkRecord } from './downlink-record.js';
import type { ProducerDriver, ProducerRecord } from './driver/types.js';

interface Waiting {
  record: ProducerRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The downlink of a `kafka` integration: turns each downlink into a record (see `downlinkRecord`)
 * and produces it with the idempotent producer. Downlinks that arrive within `lingerMs` of each
 * other share one produce request (up to `batchSize`); each `send` resolves only when the broker
 * acknowledged its record (`acks=all` by default), and rejects with a `DeliveryError` otherwise.
 */
export class KafkaSink {
  readonly #config: DownlinkConfig;
  readonly #producer: () => ProducerDriver;
  readonly #logger: Logger;
  #queue: Waiting[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(config: DownlinkConfig, producer: () => ProducerDriver, logger: Logger) {
    this.#config = config;
    this.#producer = producer;
    this.#logger = logger;
  }

  /** Sends one downlink; resolves once the broker acknowledged it. */
  send(downlink: OutboundDownlink): Promise<void> {
    if (this.#closed) return Promise.reject(new DeliveryError('the kafka integration is stopping', { retryable: true }));
    let record: ProducerRecord;
    try {
      record = downlinkRecord(downlink, this.#config.topic);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      if (this.#queue.length >= this.#config.batchSize) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#config.lingerMs);
    });
  }

  /** Sends what is waiting and refuses new downlinks. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#flush();
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue.splice(0, this.#config.batchSize);
    if (this.#queue.length > 0) this.#timer = setTimeout(() => this.#flush(), 0);
    if (batch.length === 0) return;
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#producer().send(batch.map((w) => w.record)),
        new Promise((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`not acknowledged within ${this.#config.timeoutMs} ms`)), this.#config.timeoutMs);
        }),
      ]);
      for (const w of batch) w.resolve();
    } catch (cause) {
      this.#logger.warn({ err: cause, records: batch.length }, 'producing downlinks failed');
      const message = `producing to kafka failed: ${(cause as Error)?.message ?? String(cause)}`;
      for (const w of batch) w.reject(new DeliveryError(message, { cause, retryable: true, context: { topic: w.record.topic } }));
    } finally {
      clearTimeout(timeout);
    }
  }
}
