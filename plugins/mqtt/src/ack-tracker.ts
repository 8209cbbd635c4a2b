/** One QoS 1/2 message waiting for its acknowledgement. */
export interface Delivery {
  readonly epoch: number;
  readonly messageId: number;
  readonly qos: 1 | 2;
  done: boolean;
}

/** Writes the acknowledgement of one message (PUBACK for QoS 1, PUBCOMP for QoS 2). */
export type AckWriter = (messageId: number, qos: 1 | 2) => void;

/**
 * Acknowledges QoS 1/2 messages to the broker once the pipeline has stored them, in the order
 * they arrived (MQTT 3.1.1 §4.6 asks for PUBACKs in PUBLISH order; the pipeline stores batches in
 * order anyway, so this costs nothing).
 *
 * Acknowledgements belong to one connection (`epoch`). When the connection drops, what was not
 * acknowledged is forgotten: the broker redelivers it on the next connection (persistent
 * session), where it gets a new delivery, and an old packet id is never acknowledged on a new
 * connection, where it may name another message.
 */
export class AckTracker {
  #epoch = 0;
  #queue: Delivery[] = [];
  #head = 0;
  #idle: Array<() => void> = [];

  constructor(private readonly write: AckWriter) {}

  get epoch(): number {
    return this.#epoch;
  }

  /** Messages received on the current connection and not yet acknowledged. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** A new connection: unacknowledged deliveries of the old one are dropped (the broker redelivers them). */
  newEpoch(): number {
    this.#queue = [];
    this.#head = 0;
    this.#epoch++;
    this.#notifyIdle();
    return this.#epoch;
  }

  track(messageId: number, qos: 1 | 2): Delivery {
    const delivery: Delivery = { epoch: this.#epoch, messageId, qos, done: false };
    this.#queue.push(delivery);
    return delivery;
  }

  /** The message is safe (stored, dead-lettered): acknowledge it as soon as those before it are. */
  settle(delivery: Delivery): number {
    delivery.done = true;
    if (delivery.epoch !== this.#epoch) return 0;
    let sent = 0;
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.done) {
      const d = this.#queue[this.#head++]!;
      this.write(d.messageId, d.qos);
      sent++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.pending === 0) this.#notifyIdle();
    return sent;
  }

  /** Resolves when nothing waits for an acknowledgement on the current connection. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #notifyIdle(): void {
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }
}
