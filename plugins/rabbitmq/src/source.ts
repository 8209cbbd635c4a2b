import { isShutdownError, retry, type IntegrationContext, type IntegrationHealth, type RawMessage, type UplinkOutcome } from '@tbi/plugin-api';
import { AckTracker } from './ack-tracker.js';
import type { RabbitmqConfig, UplinkConfig } from './config.js';
import type { ConnectionKeeper } from './connection-keeper.js';
import { deliveryCount, streamOffset, toRawMessage } from './delivery-message.js';
import type { ChannelDriver, ConnectionDriver, Delivery } from './driver/types.js';
import type { StreamOffsets } from './stream-offsets.js';
import { queueTraits, type QueueTraits } from './topology.js';

/** One consumed queue on one channel of one connection; replaced on every reconnect. */
interface QueueConsumer {
  queue: string;
  traits: QueueTraits;
  channel: ChannelDriver;
  tracker: AckTracker;
  /** Stream queues: offset of each unsettled delivery tag, in tag order. */
  offsets: Map<number, number>;
  pending: Delivery[];
  flushScheduled: boolean;
  /** Deliveries completed since the last acknowledgement was sent. */
  completed: number;
  settleScheduled: boolean;
  closed: boolean;
}

/**
 * The uplink of a `rabbitmq` integration: one channel per consumed queue with `prefetch`
 * unacknowledged deliveries, handed to the pipeline in batches; each delivery is acknowledged
 * only after `ctx.uplink.submit` resolved for it, contiguous runs with one `multiple` ack.
 *
 * - Failed conversions are `nack`ed without requeue (the broker dead-letters them to the queue's
 *   DLX) when the queue has one, else they are kept in the host's dead letters and acked.
 * - A message delivered more than `maxDeliveries` times (x-delivery-count) is not converted
 *   again: it goes to the host's dead letters, so a message that crashes the host cannot loop.
 * - Host back-pressure holds batches back; the broker stops delivering once `prefetch` are unacked.
 * - A lost channel or connection drops its deliveries (the broker requeues them); the connection
 *   keeper reconnects and `setup` consumes again.
 */
export class RabbitmqSource {
  readonly #ctx: IntegrationContext<RabbitmqConfig>;
  readonly #config: UplinkConfig;
  readonly #keeper: ConnectionKeeper;
  readonly #streamOffsets: StreamOffsets;
  readonly #inFlight = new Set<Promise<void>>();
  #consumers: QueueConsumer[] = [];
  #hostPaused = false;
  #stopping = false;
  readonly #maxBatch: number;
  readonly #metrics;

  constructor(ctx: IntegrationContext<RabbitmqConfig>, config: UplinkConfig, keeper: ConnectionKeeper, streamOffsets: StreamOffsets) {
    this.#ctx = ctx;
    this.#config = config;
    this.#keeper = keeper;
    this.#streamOffsets = streamOffsets;
    this.#maxBatch = config.maxBatch ?? config.prefetch;
    const m = ctx.metrics;
    this.#metrics = {
      consumed: m.counter('tbi_rabbitmq_messages_consumed_total', 'Deliveries received from RabbitMQ', ['queue']),
      submits: m.counter('tbi_rabbitmq_submits_total', 'Batches of deliveries handed to the pipeline (submit calls)', ['queue']),
      acked: m.counter('tbi_rabbitmq_messages_acked_total', 'Deliveries acknowledged after the pipeline stored (or dead-lettered) them', ['queue']),
      deadLettered: m.counter('tbi_rabbitmq_messages_dead_lettered_total', 'Deliveries dead-lettered, by where to', ['queue', 'via']),
      unacked: m.gauge('tbi_rabbitmq_unacked_messages', 'Deliveries received and not yet settled', ['queue']),
    };
    keeper.onConnected((connection) => this.#consume(connection));
  }

  /** Host back-pressure: hold batches back until `resume`. */
  pause(): void {
    this.#hostPaused = true;
  }

  resume(): void {
    this.#hostPaused = false;
    for (const c of this.#consumers) this.#flush(c);
  }

  /** Takes no new deliveries, lets batches in the pipeline finish and acks them. */
  async stop(): Promise<void> {
    this.#stopping = true;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    for (const c of this.#consumers) if (!c.closed) this.#settle(c);
    this.#streamOffsets.flush();
  }

  health(): IntegrationHealth {
    const state = this.#keeper.state;
    if (state === 'stopped' || this.#stopping) return { status: 'stopped' };
    if (state === 'up') return { status: 'up', detail: `consuming ${this.#config.queues.join(', ')} from ${this.#keeper.broker}` };
    if (state === 'waiting')
      return { status: 'degraded', detail: `reconnecting to ${this.#keeper.broker}: ${this.#keeper.lastError?.message ?? 'connection lost'}` };
    return { status: 'starting', detail: `connecting to ${this.#keeper.broker}` };
  }

  async #consume(connection: ConnectionDriver): Promise<void> {
    for (const old of this.#consumers) old.closed = true;
    this.#consumers = [];
    for (const queue of this.#config.queues) {
      const channel = await connection.channel();
      const consumer: QueueConsumer = {
        queue,
        traits: queueTraits(this.#ctx.config, queue),
        channel,
        tracker: new AckTracker(),
        offsets: new Map(),
        pending: [],
        flushScheduled: false,
        completed: 0,
        settleScheduled: false,
        closed: false,
      };
      channel.onClose((error) => {
        consumer.closed = true;
        this.#metrics.unacked.set({ queue }, 0);
        if (!this.#stopping && this.#consumers.includes(consumer)) {
          this.#keeper.fail(error ?? new Error(`the channel of queue "${queue}" closed`));
        }
      });
      await channel.prefetch(this.#config.prefetch);
      const args = consumer.traits.stream ? { 'x-stream-offset': this.#streamOffsets.startFor(queue, this.#config.streamOffset) } : undefined;
      await channel.consume(queue, (d) => this.#onDelivery(consumer, d), {
        ...(this.#config.consumerTag ? { consumerTag: `${this.#config.consumerTag}-${queue}` } : {}),
        ...(args ? { arguments: args } : {}),
        onCancel: () => this.#keeper.fail(new Error(`the broker cancelled the consumer of queue "${queue}" (queue deleted?)`)),
      });
      this.#consumers.push(consumer);
      this.#ctx.logger.info({ queue, prefetch: this.#config.prefetch, ...consumer.traits, ...(args ?? {}) }, 'rabbitmq consuming');
    }
  }

  #onDelivery(c: QueueConsumer, d: Delivery): void {
    if (c.closed || this.#stopping) return; // not acked: the broker redelivers it
    c.tracker.add(d.deliveryTag);
    if (c.traits.stream) {
      const offset = streamOffset(d);
      if (offset !== undefined) c.offsets.set(d.deliveryTag, offset);
    }
    const count = deliveryCount(d);
    if (count > this.#config.maxDeliveries) {
      this.#track(this.#poison(c, d, count));
      return;
    }
    c.pending.push(d);
    if (c.pending.length >= this.#maxBatch) this.#flush(c);
    else if (!c.flushScheduled) {
      // Deliveries arrive one frame at a time: collect what is already read before submitting.
      c.flushScheduled = true;
      setImmediate(() => {
        c.flushScheduled = false;
        this.#flush(c);
      });
    }
  }

  #flush(c: QueueConsumer): void {
    // A submit may pause the source at once (the pipeline is full): check before every batch.
    while (c.pending.length > 0 && !this.#hostPaused) this.#track(this.#process(c, c.pending.splice(0, this.#maxBatch)));
  }

  #track(task: Promise<void>): void {
    const t = task
      .catch((error: unknown) => this.#ctx.logger.error({ err: error }, 'rabbitmq batch failed unexpectedly; its deliveries stay unacknowledged'))
      .finally(() => this.#inFlight.delete(t));
    this.#inFlight.add(t);
  }

  async #process(c: QueueConsumer, batch: Delivery[]): Promise<void> {
    // Metrics per batch, not per delivery: label lookups cost more than the rest of a delivery.
    this.#metrics.consumed.inc({ queue: c.queue }, batch.length);
    this.#metrics.submits.inc({ queue: c.queue });
    this.#metrics.unacked.set({ queue: c.queue }, c.tracker.outstanding);
    const receivedAt = this.#ctx.clock.now();
    const policy = { stream: c.traits.stream, messageIdIsUnique: this.#config.messageIdIsUnique };
    const messages = batch.map((d) => toRawMessage(d, receivedAt, policy));
    let outcomes: UplinkOutcome[];
    try {
      outcomes = await this.#retrying('submit', () => this.#ctx.uplink.submit(messages, { deadLetters: c.traits.brokerDeadLetters ? 'caller' : 'host' }));
    } catch (error) {
      if (isShutdownError(error)) return; // left unacknowledged: the broker redelivers
      throw error;
    }
    if (c.closed) return; // the channel is gone: the broker requeued these (dedup by sourceId where there is one)
    const stored: number[] = [];
    outcomes.forEach((outcome, i) => {
      const tag = batch[i]!.deliveryTag;
      if (outcome.status === 'failed') {
        c.channel.nack(tag, false, false);
        c.tracker.nacked(tag);
        this.#metrics.deadLettered.inc({ queue: c.queue, via: 'dlx' });
        this.#ctx.logger.warn({ queue: c.queue, error: outcome.error }, 'conversion failed; message rejected to the queue’s dead-letter exchange');
      } else {
        if (outcome.status === 'dead-lettered') this.#metrics.deadLettered.inc({ queue: c.queue, via: 'host' });
        stored.push(tag);
      }
    });
    c.tracker.done(stored);
    this.#completed(c, stored.length);
  }

  /** A message delivered too often: the host's dead letters get it unconverted; then it is acked. */
  async #poison(c: QueueConsumer, d: Delivery, count: number): Promise<void> {
    const message: RawMessage = toRawMessage(d, this.#ctx.clock.now(), { stream: c.traits.stream, messageIdIsUnique: this.#config.messageIdIsUnique });
    const reason = `delivered ${count} times (more than maxDeliveries ${this.#config.maxDeliveries}): not converted again`;
    try {
      await this.#retrying('dead-letter', () => this.#ctx.uplink.reject([message], reason));
    } catch (error) {
      if (isShutdownError(error)) return;
      throw error;
    }
    if (c.closed) return;
    this.#ctx.logger.warn({ queue: c.queue, deliveryCount: count, messageId: d.properties.messageId }, 'poison message moved to the dead letters');
    this.#metrics.deadLettered.inc({ queue: c.queue, via: 'host' });
    c.tracker.done([d.deliveryTag]);
    this.#completed(c, 1);
  }

  /**
   * Deliveries are done: acknowledge them in the next event-loop turn, together with whatever else
   * completes in this one. The pipeline settles a whole converter batch at once, which is several
   * submits, so this sends one `multiple` ack per batch instead of one per submit: fewer frames,
   * and the broker refills the window in larger runs (less of its CPU per message).
   */
  #completed(c: QueueConsumer, count: number): void {
    c.completed += count;
    if (c.settleScheduled) return;
    c.settleScheduled = true;
    setImmediate(() => {
      c.settleScheduled = false;
      if (!c.closed) this.#settle(c); // a closed channel's tags mean nothing: the broker requeued them
    });
  }

  #settle(c: QueueConsumer): void {
    const completed = c.completed;
    c.completed = 0;
    const plan = c.tracker.settle(true);
    if (plan.upTo !== undefined) c.channel.ack(plan.upTo, true);
    for (const tag of plan.single) c.channel.ack(tag, false);
    if (completed > 0) this.#metrics.acked.inc({ queue: c.queue }, completed);
    this.#metrics.unacked.set({ queue: c.queue }, c.tracker.outstanding);
    if (c.traits.stream && plan.upTo !== undefined) {
      let last: number | undefined;
      for (const [tag, offset] of c.offsets) {
        if (tag > plan.upTo) break;
        last = offset;
        c.offsets.delete(tag);
      }
      for (const tag of plan.single) c.offsets.delete(tag);
      if (last !== undefined) this.#streamOffsets.stored(c.queue, last);
    }
  }

  #retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retry(fn, {
      signal: this.#ctx.signal,
      initialDelayMs: 200,
      maxDelayMs: 5000,
      onRetry: ({ error, attempt, delayMs }) => this.#ctx.logger.warn({ err: error, attempt, retryInMs: delayMs }, `${what} failed; retrying`),
    });
  }
}
