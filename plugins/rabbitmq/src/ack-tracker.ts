/** What to send to the broker after some deliveries completed. */
export interface AckPlan {
  /** `basic.ack` with `multiple=true` up to this tag (every earlier delivery is settled). */
  upTo?: number;
  /** Tags to ack one by one: completed, but an earlier delivery is still in the pipeline. */
  single: number[];
}

/**
 * Delivery tags of one channel, in arrival order, and which of them are done. AMQP's `multiple`
 * flag acknowledges every delivery up to a tag, so it may only cover a contiguous run of done
 * deliveries: `settle` returns the longest such prefix as one ack, and (when `eager`) the done
 * deliveries behind a still-pending one as single acks, so a slow batch does not hold the
 * prefetch window shut. Deliveries settled by a `nack` (`nacked`) are never acked again: a
 * prefix ack ends at the last delivery that still needs one.
 *
 * @example
 * const t = new AckTracker(); t.add(1); t.add(2); t.add(3);
 * t.done([2]); t.settle(false) // { single: [] } — 1 is still pending
 * t.done([1]); t.settle(false) // { upTo: 2, single: [] }
 */
export class AckTracker {
  /** Tags delivered and not yet settled, ascending. */
  #pending: number[] = [];
  /** Done tags: true = needs an ack, false = already settled by a nack. */
  #done = new Map<number, boolean>();

  add(tag: number): void {
    this.#pending.push(tag);
  }

  /** Marks deliveries stored (or dead-lettered by the host): they need an ack. */
  done(tags: Iterable<number>): void {
    for (const t of tags) this.#done.set(t, true);
  }

  /** Marks a delivery the connector settled with `nack` (the broker dead-letters it). */
  nacked(tag: number): void {
    this.#done.set(tag, false);
  }

  /** Deliveries not yet settled. */
  get outstanding(): number {
    return this.#pending.length;
  }

  settle(eager: boolean): AckPlan {
    const plan: AckPlan = { single: [] };
    let i = 0;
    for (; i < this.#pending.length; i++) {
      const tag = this.#pending[i]!;
      const needsAck = this.#done.get(tag);
      if (needsAck === undefined) break;
      this.#done.delete(tag);
      if (needsAck) plan.upTo = tag;
    }
    this.#pending = i === 0 ? this.#pending : this.#pending.slice(i);
    if (eager && this.#done.size > 0) {
      this.#pending = this.#pending.filter((t) => {
        const needsAck = this.#done.get(t);
        if (needsAck === undefined) return true;
        this.#done.delete(t);
        if (needsAck) plan.single.push(t);
        return false;
      });
    }
    return plan;
  }

  /** The channel is gone: its tags mean nothing any more (the broker requeued them). */
  reset(): void {
    this.#pending = [];
    this.#done.clear();
  }
}
