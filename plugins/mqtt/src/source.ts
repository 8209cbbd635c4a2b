import { isShutdownError, type IntegrationContext, type RawMessage } from '@tbi/plugin-api';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { AckTracker, type Delivery } from './ack-tracker.js';
import type { MqttConfig } from './config.js';
import { metadataBuilder, type MetadataBuilder } from './message-metadata.js';
import { uplinkMetrics, type UplinkMetrics } from './uplink-metrics.js';

/** A message on its way from the broker to the pipeline. */
interface Item {
  packet: IPublishPacket;
  delivery: Delivery | undefined;
  receivedAt: number;
}

/**
 * Handed to the `mqtt` client's `handleMessage` callback to keep it from acknowledging: with an
 * error argument it skips its PUBACK (QoS 1) / PUBCOMP (QoS 2) and goes on with the next packet.
 */
const DEFERRED = new Error('acknowledged later by tbi, after the pipeline stored the message');

/**
 * Messages kept while paused. Beyond this the client stops reading the socket (TCP back-pressure
 * to the broker) until `resume`. QoS 0 has no in-flight window, and Mosquitto 2.0 does not hold
 * the client's receive maximum when acknowledgements come in batches (it sent 194,500 of a
 * 200,000 backlog unacknowledged), so the window the broker keeps cannot be what bounds memory.
 */
const MAX_HELD = 10_000;

/** First byte of a PUBACK and of a PUBCOMP packet (type << 4, no flags). */
const PUBACK = 0x40;
const PUBCOMP = 0x70;

/** What the source needs from the connection. */
export interface SourceConnection {
  readonly client: MqttClient;
  readonly connected: boolean;
  recycle(reason: string): void;
  /** Reading the socket stopped: keep the keepalive from tripping meanwhile. */
  holdReads(): void;
  releaseReads(): void;
}

/**
 * The uplink: subscribes, gathers arriving messages into micro-batches, submits them to the
 * pipeline, and acknowledges each QoS 1/2 message to the broker only once its submit resolved.
 *
 * How the acknowledgement is held back: the `mqtt` client calls `handleMessage(packet, done)`
 * for every PUBLISH and sends the PUBACK in `done`. Waiting before calling `done` would stop the
 * client from reading anything else (it handles one packet at a time), so `done` is called at
 * once with an error, which makes the client skip its PUBACK, and the PUBACK is written here
 * later.
 *
 * What bounds memory: the broker should stop sending QoS 1/2 messages once `receiveMaximum`
 * (MQTT 5) or its own in-flight limit (3.1.1) are unacknowledged, but Mosquitto 2.0 does not
 * hold that window when acknowledgements come in batches. So when the host pauses the source
 * (its pipeline is full), arriving messages are kept up to `MAX_HELD`, and then the client stops
 * reading the socket until `resume`: TCP back-pressure, the rest waits in the broker's queue.
 */
export class MqttSource {
  readonly #ctx: IntegrationContext<MqttConfig>;
  readonly #config: MqttConfig;
  readonly #conn: SourceConnection;
  readonly #tracker: AckTracker;
  readonly #metadata: MetadataBuilder;
  readonly #metrics: UplinkMetrics;
  readonly #submits = new Set<Promise<void>>();
  #batch: Item[] = [];
  #held: Item[] = [];
  /** The client's `done` of the packet at which reading stopped (paused with the hold buffer full). */
  #blocked: (() => void) | undefined;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #paused = false;
  #closed = false;
  #subscribedOnce = false;
  /** A SUBSCRIBE is sent and its SUBACK not yet in: what arrives meanwhile may not be routed to us. */
  #subscribing = false;
  /** Called when a SUBSCRIBE was answered (or its connection closed): ends `subscribed()`. */
  #onSubscribed: Array<() => void> = [];
  #problem: string | undefined;
  /** Messages received by QoS and not yet counted in the metric (counted per micro-batch, not per message). */
  #uncounted = [0, 0, 0];
  /** Acknowledgements settled in this run, written together (`#writeAcks`): [packet type byte, messageId]… */
  #acks: number[] = [];

  constructor(ctx: IntegrationContext<MqttConfig>, conn: SourceConnection) {
    this.#ctx = ctx;
    this.#config = ctx.config;
    this.#conn = conn;
    this.#metadata = metadataBuilder(ctx.config);
    this.#metrics = uplinkMetrics(ctx.metrics);
    this.#tracker = new AckTracker((messageId, qos) => this.#acks.push(qos === 1 ? PUBACK : PUBCOMP, messageId));
    conn.client.handleMessage = (packet, done) => this.#onMessage(packet, done);
  }

  /** A subscription the broker refused, for `health()`. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /**
   * Whether the SUBACK is still awaited, for `health()`: `first` on the first connection, `again`
   * after a reconnection; undefined once subscribed (or the session kept the subscriptions).
   */
  get subscribing(): 'first' | 'again' | undefined {
    if (!this.#subscribing) return undefined;
    return this.#subscribedOnce ? 'again' : 'first';
  }

  /** Resolves once no SUBACK is awaited: at once, or when it arrives or its connection closes. */
  subscribed(): Promise<void> {
    if (!this.#subscribing) return Promise.resolve();
    return new Promise((resolve) => this.#onSubscribed.push(resolve));
  }

  #subscribeSettled(): void {
    this.#subscribing = false;
    for (const resolve of this.#onSubscribed.splice(0)) resolve();
  }

  /** After every CONNACK. */
  onConnect(sessionPresent: boolean): void {
    // MQTT 3.1.1 re-sends retained messages on every SUBSCRIBE; with a resumed session the
    // subscriptions are still there, so only the first connection of this process subscribes.
    const v5 = this.#config.protocolVersion === '5';
    if (sessionPresent && this.#subscribedOnce && !v5) return;
    this.#subscribe(v5);
  }

  /** The connection is gone: whatever it did not acknowledge is redelivered on the next one. */
  onClose(): void {
    this.#subscribeSettled(); // the next connection subscribes again, or its session has them
    this.#tracker.newEpoch();
    this.#metrics.unacked.set({}, 0);
    this.#unblock(); // the packet it held belongs to the dead connection
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const held = this.#held;
    this.#held = [];
    for (const item of held) this.#enqueue(item);
    this.#unblock();
  }

  #unblock(): void {
    const done = this.#blocked;
    if (done === undefined) return;
    this.#blocked = undefined;
    this.#conn.releaseReads();
    done();
  }

  /**
   * Takes no more messages (they stay unacknowledged and the broker redelivers them), hands over
   * what was gathered, and waits up to `graceMs` for submits in flight to resolve and be acknowledged.
   */
  async stop(graceMs: number): Promise<void> {
    this.#closed = true;
    this.#clearTimer();
    this.#flush();
    this.#count();
    this.#held = [];
    this.#unblock();
    if (this.#submits.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#submits]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  #subscribe(v5: boolean): void {
    const group = this.#config.sharedGroup;
    const map: Record<string, { qos: 0 | 1 | 2; rh?: number }> = {};
    for (const f of this.#config.topicFilters) {
      const topic = group === undefined ? f.filter : `$share/${group}/${f.filter}`;
      // Retain handling 1: retained messages only for a subscription that did not exist yet.
      map[topic] = v5 ? { qos: f.qos, rh: 1 } : { qos: f.qos };
    }
    this.#subscribing = true;
    this.#conn.client.subscribe(map, (error, granted) => {
      this.#subscribeSettled();
      if (error) {
        this.#problem = `subscribe failed: ${error.message}`;
        this.#ctx.logger.error({ err: error.message, filters: Object.keys(map) }, 'MQTT subscribe failed');
        return;
      }
      const refused = (granted ?? []).filter((g) => g.qos === 128 || g.qos > 2);
      this.#problem = refused.length > 0 ? `the broker refused ${refused.map((g) => g.topic).join(', ')}` : undefined;
      if (refused.length > 0) this.#ctx.logger.error({ refused: refused.map((g) => g.topic) }, 'the MQTT broker refused subscriptions');
      else this.#ctx.logger.info({ filters: (granted ?? []).map((g) => ({ topic: g.topic, qos: g.qos })) }, 'subscribed');
      this.#subscribedOnce = true;
    });
  }

  #onMessage(packet: IPublishPacket, done: (error?: Error) => void): void {
    const qos = packet.qos;
    if (this.#closed) {
      // Stopping: leave it unacknowledged; the broker redelivers it to the next session.
      done(qos > 0 ? DEFERRED : undefined);
      return;
    }
    const delivery = qos > 0 && packet.messageId !== undefined ? this.#tracker.track(packet.messageId, qos as 1 | 2) : undefined;
    // QoS 2 arrives here on PUBREL. The client counts a QoS 2 message against receiveMaximum until
    // PUBCOMP, but some brokers (Mosquitto 2.0) refill their send quota at PUBREC already and send
    // more, which would make the client drop the connection: count it only up to PUBREL.
    if (qos === 2 && packet.messageId !== undefined) this.#releaseQos2(packet.messageId);
    this.#uncounted[qos] = (this.#uncounted[qos] ?? 0) + 1;
    const item: Item = { packet, delivery, receivedAt: this.#ctx.clock.now() };
    if (packet.payload.length > this.#config.maxMessageBytes) this.#reject(item);
    else if (this.#paused) {
      this.#held.push(item);
      if (this.#held.length >= MAX_HELD) {
        // Stop reading: the client handles one packet at a time, so holding `done` holds the socket.
        this.#blocked = () => done(qos > 0 ? DEFERRED : undefined);
        this.#conn.holdReads();
        this.#metrics.blocked.inc({});
        this.#count();
        return;
      }
    } else this.#enqueue(item);
    done(qos > 0 ? DEFERRED : undefined);
  }

  #enqueue(item: Item): void {
    this.#batch.push(item);
    const { maxMessages, lingerMs } = this.#config.batch;
    if (this.#batch.length >= maxMessages) {
      this.#clearTimer();
      this.#flush();
    } else if (this.#timer === undefined) {
      this.#timer = lingerMs > 0 ? setTimeout(() => this.#flush(), lingerMs) : setImmediate(() => this.#flush());
    }
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }

  /**
   * Brings the received counter and the unacknowledged gauge up to date. Once per micro-batch
   * rather than per message: a metric update costs about as much as the rest of the handling
   * of a small message.
   */
  #count(): void {
    const uncounted = this.#uncounted;
    for (let qos = 0; qos < uncounted.length; qos++) {
      if (uncounted[qos] === 0) continue;
      this.#metrics.received.inc({ qos: String(qos) }, uncounted[qos]);
      uncounted[qos] = 0;
    }
    this.#metrics.unacked.set({}, this.#tracker.pending);
  }

  #flush(): void {
    this.#timer = undefined;
    const items = this.#batch;
    if (items.length === 0) return;
    this.#batch = [];
    this.#count();
    const messages: RawMessage[] = items.map((item) => ({
      payload: item.packet.payload as Buffer,
      metadata: this.#metadata(item.packet),
      receivedAt: item.receivedAt,
    }));
    const submit = this.#ctx.uplink.submit(messages).then(
      () => this.#settle(items),
      (error: unknown) => this.#submitFailed(error, items.length),
    );
    this.#submits.add(submit);
    void submit.finally(() => this.#submits.delete(submit));
  }

  #submitFailed(error: unknown, count: number): void {
    if (isShutdownError(error)) {
      this.#ctx.logger.info({ count }, 'host stopping: messages left unacknowledged for redelivery');
      return;
    }
    // Not stored and not acknowledged: their in-flight slots at the broker stay taken until the
    // connection ends, so end it and let the broker redeliver them.
    this.#ctx.logger.error({ err: error instanceof Error ? error.message : String(error), count }, 'uplink submit failed');
    this.#conn.recycle('uplink submit failed');
  }

  #reject(item: Item): void {
    const size = item.packet.payload.length;
    const reason = `message of ${size} bytes is larger than maxMessageBytes (${this.#config.maxMessageBytes})`;
    const metadata = this.#metadata(item.packet);
    this.#count();
    this.#metrics.oversized.inc({});
    this.#ctx.logger.warn({ topic: item.packet.topic, size, limit: this.#config.maxMessageBytes }, 'message too large: dead-lettered, not converted');
    // Acknowledged only once the host's dead-letter table holds it.
    this.#ctx.uplink.reject([{ payload: item.packet.payload as Buffer, metadata, receivedAt: item.receivedAt }], reason).then(
      () => this.#settle([item]),
      (error: unknown) => {
        this.#ctx.logger.error({ err: (error as Error).message }, 'could not dead-letter the rejected message; it stays unacknowledged');
        this.#conn.recycle('could not dead-letter a rejected message');
      },
    );
  }

  /** The items are safe (stored, dead-lettered): acknowledges those whose turn it is, in one write. */
  #settle(items: readonly Item[]): void {
    let sent = 0;
    for (const item of items) if (item.delivery !== undefined) sent += this.#tracker.settle(item.delivery);
    this.#writeAcks();
    if (sent > 0) this.#metrics.acked.inc({}, sent);
    this.#metrics.unacked.set({}, this.#tracker.pending);
  }

  #releaseQos2(messageId: number): void {
    (this.#conn.client as unknown as { _releaseIncomingQoS2Publish?(id: number): void })._releaseIncomingQoS2Publish?.(messageId);
  }

  /**
   * Writes the PUBACKs (QoS 1) and PUBCOMPs (QoS 2) settled in this run on the current connection,
   * in the order they were settled, as one buffer: one socket write for a whole batch instead of
   * one `mqtt-packet` generation and write per message. Each is 4 bytes, the same for MQTT 3.1.1
   * and 5: type, remaining length 2, packet id (MQTT 5 §3.4.2.1: a success reason code without
   * properties is left out).
   */
  #writeAcks(): void {
    const acks = this.#acks;
    if (acks.length === 0) return;
    this.#acks = [];
    const client = this.#conn.client;
    if (!this.#conn.connected) return;
    const bytes = Buffer.allocUnsafe(acks.length * 2);
    for (let i = 0; i < acks.length; i += 2) {
      const type = acks[i]!;
      const messageId = acks[i + 1]!;
      // What the client would have done itself after handleMessage for a QoS 2 PUBREL.
      if (type === PUBCOMP) client.incomingStore.del({ messageId } as IPublishPacket, () => {});
      bytes[i * 2] = type;
      bytes[i * 2 + 1] = 2;
      bytes.writeUInt16BE(messageId, i * 2 + 2);
    }
    client.stream.write(bytes);
  }
}
