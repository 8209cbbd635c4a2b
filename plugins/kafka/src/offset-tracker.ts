/** A topic partition, e.g. `{ topic: 'telemetry', partition: 3 }`. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** An offset to commit: the next offset the group should read (last stored + 1). */
export interface CommitPoint extends TopicPartition {
  offset: bigint;
  leaderEpoch: number;
}

/** A run of consecutive records of one partition handed to the pipeline in one batch. */
export interface Segment {
  readonly key: string;
  readonly first: bigint;
  readonly last: bigint;
  readonly leaderEpoch: number;
  done: boolean;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** In delivery order; done segments at the head are folded into `stored`. */
  segments: Segment[];
  /** Next offset after the last record known stored with nothing pending before it. */
  stored: { offset: bigint; leaderEpoch: number } | undefined;
  /** Highest offset committed (or being committed); commits never go backwards. */
  committed: bigint;
  /** Records fetched under an older group generation are stale for this partition. */
  sinceGeneration: number;
}

/** `topic:partition`, the key of a partition in maps. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/**
 * Which offset of each partition may be committed: per partition, the offset below which every
 * record delivered by the consumer has been stored by the pipeline (Kafka's "next offset to read").
 *
 * Records arrive per partition in offset order as segments (the records of one batch); batches
 * may finish out of order. The commit point only moves over segments that are done, so a slow
 * batch holds back the commit of later, faster ones: a crash redelivers from the slow one, and
 * the platform skips what it already stored (same `sourceId`).
 *
 * Only assigned partitions are tracked. A rebalance (`assign`) keeps the state of partitions the
 * consumer still owns, forgets revoked ones (their late results are ignored) and starts new ones
 * empty; records of a partition fetched before it was (re)assigned are reported stale so the
 * caller drops them and lets the consumer read them again from the committed offset.
 *
 * @example
 * const t = new OffsetTracker();
 * t.assign([{ topic: 'a', partition: 0 }], 1);
 * const s = t.add('a', 0, 10n, 19n, 0, 1)!;
 * t.complete(s);
 * t.commitPoints(); // [{ topic: 'a', partition: 0, offset: 20n, leaderEpoch: 0 }]
 */
export class OffsetTracker {
  readonly #partitions = new Map<string, PartitionState>();

  /** Replaces the assignment after a group (re)join; `generation` is the group generation. */
  assign(partitions: readonly TopicPartition[], generation: number): { added: TopicPartition[]; revoked: TopicPartition[] } {
    const next = new Set(partitions.map((p) => partitionKey(p.topic, p.partition)));
    const revoked: TopicPartition[] = [];
    for (const [key, state] of this.#partitions) {
      if (!next.has(key)) {
        this.#partitions.delete(key);
        revoked.push({ topic: state.topic, partition: state.partition });
      }
    }
    const added: TopicPartition[] = [];
    for (const p of partitions) {
      const key = partitionKey(p.topic, p.partition);
      if (this.#partitions.has(key)) continue;
      this.#partitions.set(key, {
        topic: p.topic,
        partition: p.partition,
        segments: [],
        stored: undefined,
        committed: -1n,
        sinceGeneration: generation,
      });
      added.push({ topic: p.topic, partition: p.partition });
    }
    return { added, revoked };
  }

  /** Forgets everything (the consumer stream was re-created and reads again from the commits). */
  reset(): void {
    this.#partitions.clear();
  }

  /** Whether the partition is assigned. */
  owns(topic: string, partition: number): boolean {
    return this.#partitions.has(partitionKey(topic, partition));
  }

  /**
   * Registers records `first..last` of a partition, delivered under group `generation`. Returns
   * `undefined` when they must be dropped: the partition is not assigned, or they were fetched
   * before it was assigned (the consumer reads them again from the committed offset).
   */
  add(topic: string, partition: number, first: bigint, last: bigint, leaderEpoch: number, generation: number): Segment | undefined {
    const key = partitionKey(topic, partition);
    const state = this.#partitions.get(key);
    if (state === undefined || generation < state.sinceGeneration) return undefined;
    const segment: Segment = { key, first, last, leaderEpoch, done: false };
    state.segments.push(segment);
    return segment;
  }

  /** Marks a segment stored (or dead-lettered); a segment of a revoked partition is ignored. */
  complete(segment: Segment): void {
    segment.done = true;
    const state = this.#partitions.get(segment.key);
    if (state === undefined || !state.segments.includes(segment)) return;
    this.#fold(state);
  }

  /** Commit points that moved past what was committed, one per partition. */
  commitPoints(): CommitPoint[] {
    const points: CommitPoint[] = [];
    for (const state of this.#partitions.values()) {
      if (state.stored !== undefined && state.stored.offset > state.committed) {
        points.push({ topic: state.topic, partition: state.partition, offset: state.stored.offset, leaderEpoch: state.stored.leaderEpoch });
      }
    }
    return points;
  }

  /** Records that `points` were committed (or are being committed), so they are not offered again. */
  markCommitted(points: readonly CommitPoint[]): void {
    for (const p of points) {
      const state = this.#partitions.get(partitionKey(p.topic, p.partition));
      if (state !== undefined && p.offset > state.committed) state.committed = p.offset;
    }
  }

  /** Puts points back after a failed commit, so the next round offers them again. */
  uncommit(points: readonly CommitPoint[]): void {
    for (const p of points) {
      const state = this.#partitions.get(partitionKey(p.topic, p.partition));
      if (state !== undefined && state.committed === p.offset) state.committed = p.offset - 1n;
    }
  }

  /** Committed offset per assigned partition (-1 when nothing was committed by this consumer). */
  committedOffsets(): Array<TopicPartition & { offset: bigint }> {
    return [...this.#partitions.values()].map((s) => ({ topic: s.topic, partition: s.partition, offset: s.committed }));
  }

  /** Segments handed to the pipeline and not yet done, over all partitions. */
  pendingCount(): number {
    let n = 0;
    for (const state of this.#partitions.values()) n += state.segments.filter((s) => !s.done).length;
    return n;
  }

  #fold(state: PartitionState): void {
    while (state.segments.length > 0 && state.segments[0]!.done) {
      const head = state.segments.shift()!;
      // A rewind (the consumer re-reads from the committed offset after a rejoin) may deliver
      // lower offsets again; they never move the commit point backwards.
      if (state.stored === undefined || head.last + 1n > state.stored.offset) {
        state.stored = { offset: head.last + 1n, leaderEpoch: head.leaderEpoch };
      }
    }
  }
}
