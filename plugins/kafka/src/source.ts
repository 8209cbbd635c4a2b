import { Backoff, isShutdownError, retry, sleep, type IntegrationContext, type IntegrationHealth, type UplinkOutcome } from '@tbi/plugin-api';
import type { KafkaConfig, UplinkConfig } from './config.js';
import { deadLetterRecord } from './dead-letter.js';
import type { ConsumedRecord, ConsumerDriver, KafkaDriver, ProducerDriver } from './driver/types.js';
import { OffsetTracker, partitionKey, type Segment, type TopicPartition } from './offset-tracker.js';
import { toRawMessage } from './record-message.js';
import { ensureTopics, isMissingTopicsError, resolveTopics } from './topics.js';

/** How long `start` waits for the first connection before it returns and goes on in the background. */
const START_WAIT_MS = 5000;

/** Why the source is not consuming yet, and when it tries again. */
interface Waiting {
  status: 'degraded' | 'down';
  reason: string;
  retryAt?: number;
}

/**
 * The uplink of a `kafka` integration: a group consumer whose records go through the pipeline
 * in batches (`ctx.uplink.submit`), with offsets committed only once the pipeline stored them.
 *
 * - Each fetch is cut into batches of at most `maxPollRecords`; up to `maxInFlightBatches` are in
 *   the pipeline at once, beyond that (or when the host signals back-pressure) fetching pauses.
 * - Per partition, the `OffsetTracker` knows the offset below which everything is stored; commits
 *   happen at most every `commitIntervalMs` and never before `submit` resolved.
 * - With `deadLetterTopic`, failed conversions come back (`deadLetters: 'caller'`), are produced
 *   to that topic with Kafka Connect error headers, and only then count as done.
 */
export class KafkaSource {
  readonly #ctx: IntegrationContext<KafkaConfig>;
  readonly #config: UplinkConfig;
  readonly #driver: KafkaDriver;
  readonly #dlqProducer: () => ProducerDriver;
  readonly #tracker = new OffsetTracker();
  readonly #inFlight = new Set<Promise<void>>();
  /** Batches cut from fetched records, waiting for a place in the pipeline. */
  #backlog: Array<{ records: ConsumedRecord[]; segments: Segment[]; receivedAt: number; epoch: number }> = [];
  #consumer: ConsumerDriver | undefined;
  #epoch = 0;
  #hostPaused = false;
  #flowPaused = false;
  #stopping = false;
  #restarting: string | undefined;
  #waiting: Waiting | undefined;
  /** Aborted by `stop` (the host aborts `ctx.signal` too): ends reconnect waits and dead-letter retries. */
  readonly #stop = new AbortController();
  readonly #signal: AbortSignal;
  /** 1 s, 2 s, 4 s … up to 10 s between connection attempts, slightly jittered. */
  readonly #reconnect = new Backoff({ initialDelayMs: 1000, maxDelayMs: 10_000, jitter: 0.2 });
  #commitTimer: NodeJS.Timeout | undefined;
  #committing: Promise<void> | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
  #topicTimer: NodeJS.Timeout | undefined;
  #topics: string[] = [];
  readonly #metrics;

  constructor(ctx: IntegrationContext<KafkaConfig>, config: UplinkConfig, driver: KafkaDriver, dlqProducer: () => ProducerDriver) {
    this.#ctx = ctx;
    this.#config = config;
    this.#driver = driver;
    this.#dlqProducer = dlqProducer;
    this.#signal = AbortSignal.any([ctx.signal, this.#stop.signal]);
    const m = ctx.metrics;
    this.#metrics = {
      consumed: m.counter('tbi_kafka_records_consumed_total', 'Records fetched from Kafka and handed to the pipeline'),
      committed: m.counter('tbi_kafka_offset_commits_total', 'Offset commits, by result', ['result']),
      deadLetters: m.counter('tbi_kafka_dead_letter_records_total', 'Records produced to the dead-letter topic'),
      lag: m.gauge('tbi_kafka_consumer_lag', 'Records behind the end of each assigned partition (from the committed offset)', ['topic', 'partition']),
      paused: m.gauge('tbi_kafka_consumer_paused', '1 while fetching is paused (back-pressure)'),
    };
  }

  /**
   * Checks the brokers and topics, then joins the group and starts consuming. It does not wait
   * for brokers that cannot be reached nor for topics that do not exist yet: it resolves (health
   * `down` or `degraded`, naming the brokers, the cause and the next try) and keeps trying in the
   * background. A refused login or an invalid setting rejects, and the host restarts the
   * integration with its own backoff.
   */
  async start(): Promise<void> {
    const first = this.#connect().then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    let slow: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([first, new Promise<'slow'>((resolve) => (slow = setTimeout(() => resolve('slow'), START_WAIT_MS)))]);
    clearTimeout(slow);
    if (outcome === undefined) return;
    if (outcome === 'slow') {
      // A broker that neither answers nor refuses (a black-holed address) holds a connection
      // attempt for connectTimeoutMs: say so, and let that attempt finish in the background.
      this.#waiting = { status: 'down', reason: `connecting to Kafka at ${this.#ctx.config.bootstrapServers.join(', ')}` };
      void first.then((late) => late && this.#retryLater(late.error));
      return;
    }
    if (!this.#canWait(outcome.error)) throw outcome.error;
    this.#retryLater(outcome.error);
  }

  /** Unreachable brokers and missing topics are waited for; anything else is a failure. */
  #canWait(error: unknown): boolean {
    return isMissingTopicsError(error) || this.#driver.isTransient(error);
  }

  async #connect(): Promise<void> {
    const created = await ensureTopics(this.#config, this.#driver);
    if (created.length > 0)
      this.#ctx.logger.info(
        { topics: created, partitions: this.#config.newTopicPartitions, replicationFactor: this.#config.newTopicReplicationFactor },
        'created the missing kafka topics (autoCreateTopics)',
      );
    await this.#join();
    if (this.#stopping) {
      // Stopped while this attempt ran in the background: undo what it set up.
      clearInterval(this.#lagTimer);
      clearInterval(this.#topicTimer);
      await this.#consumer?.close();
      return;
    }
    if (this.#waiting !== undefined) this.#ctx.logger.info({ topics: this.#topics }, 'kafka is reachable and every topic exists now: consuming');
    this.#waiting = undefined;
    this.#reconnect.reset();
  }

  /** Tries to connect again after a backoff; health says why and when meanwhile. */
  #retryLater(error: unknown): void {
    if (this.#stopping) return;
    const delay = this.#reconnect.next();
    const missing = isMissingTopicsError(error);
    const reason = missing ? error.message : this.#driver.describeError(error);
    const known = this.#waiting?.reason === reason;
    this.#waiting = { status: missing ? 'degraded' : 'down', reason, retryAt: Date.now() + delay };
    // Once per cause at WARN; the retries in between at DEBUG.
    if (!known) this.#ctx.logger.warn({ err: missing ? undefined : error, retryInMs: delay }, `${reason}; retrying in the background`);
    else this.#ctx.logger.debug({ attempt: this.#reconnect.attempt, retryInMs: delay }, `${reason}; retrying`);
    sleep(delay, this.#signal).then(
      async () => {
        if (this.#stopping) return;
        try {
          await this.#consumer?.close();
          this.#consumer = undefined;
          await this.#connect();
        } catch (next) {
          this.#retryLater(next);
        }
      },
      () => {}, // stopped while waiting
    );
  }

  async #join(): Promise<void> {
    this.#topics = await this.#resolveTopics();
    const groupId = this.#config.groupId ?? `tbi-${this.#ctx.name}`;
    this.#consumer = this.#driver.consumer({
      groupId,
      topics: this.#topics,
      fromBeginning: this.#config.autoOffsetReset === 'earliest',
      sessionTimeoutMs: this.#config.sessionTimeoutMs,
      heartbeatIntervalMs: this.#config.heartbeatIntervalMs,
      rebalanceTimeoutMs: this.#config.rebalanceTimeoutMs,
      maxBytes: this.#config.maxPollBytes,
      maxBytesPerPartition: this.#config.maxPartitionFetchBytes,
      maxWaitMs: this.#config.fetchMaxWaitMs,
    });
    await this.#consumer.start({
      records: (records) => this.#onRecords(records),
      assigned: (partitions, generation) => this.#onAssigned(partitions, generation),
      restarted: (error) => this.#onRestarted(error),
    });
    this.#ctx.logger.info({ groupId, topics: this.#topics }, 'kafka consumer joined its group');
    if (this.#config.lagIntervalMs > 0) {
      this.#lagTimer = setInterval(() => void this.#measureLag(), this.#config.lagIntervalMs);
      this.#lagTimer.unref();
    }
    if (this.#config.topicPattern !== undefined) {
      this.#topicTimer = setInterval(() => void this.#refreshTopics(), this.#config.topicRefreshMs);
      this.#topicTimer.unref();
    }
  }

  /** Stops fetching, lets batches in the pipeline finish (or be released), commits, leaves the group. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stop.abort();
    clearInterval(this.#lagTimer);
    clearInterval(this.#topicTimer);
    this.#consumer?.pause();
    await Promise.allSettled([...this.#inFlight]);
    clearTimeout(this.#commitTimer);
    await this.#committing;
    await this.#commitNow();
    await this.#consumer?.close();
  }

  /** Host back-pressure: stop fetching until `resume`. */
  pause(): void {
    this.#hostPaused = true;
    this.#applyFlow();
  }

  resume(): void {
    this.#hostPaused = false;
    this.#applyFlow();
  }

  health(): IntegrationHealth {
    if (this.#stopping) return { status: 'stopped' };
    if (this.#waiting !== undefined) {
      const { status, reason, retryAt } = this.#waiting;
      if (retryAt === undefined) return { status, detail: reason };
      return { status, detail: `${reason}; retrying in ${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))} s` };
    }
    if (this.#restarting !== undefined) return { status: 'degraded', detail: `consumer restarting: ${this.#restarting}` };
    if (this.#consumer?.isActive() !== true) return { status: 'degraded', detail: 'consumer is (re)joining its group' };
    return { status: 'up', detail: `consuming ${this.#topics.join(', ')}` };
  }

  #onRecords(records: ConsumedRecord[]): void {
    if (this.#stopping) return;
    this.#ctx.logger.debug(
      { records: records.length, first: `${records[0]?.topic}/${records[0]?.partition}/${records[0]?.offset}`, generation: records[0]?.generation },
      'kafka records fetched',
    );
    const receivedAt = this.#ctx.clock.now();
    for (let i = 0; i < records.length; i += this.#config.maxPollRecords) {
      const chunk = this.#track(records.slice(i, i + this.#config.maxPollRecords));
      if (chunk.records.length === 0) continue;
      this.#metrics.consumed.inc({}, chunk.records.length);
      this.#backlog.push({ ...chunk, receivedAt, epoch: this.#epoch });
    }
    this.#pump();
  }

  /** Moves batches from the backlog into the pipeline while there is room, then adjusts fetching. */
  #pump(): void {
    while (this.#backlog.length > 0 && this.#inFlight.size < this.#config.maxInFlightBatches && !this.#stopping) {
      const batch = this.#backlog.shift()!;
      if (batch.epoch !== this.#epoch) continue; // the consumer restarted: it reads these again
      const task = this.#process(batch.records, batch.segments, batch.receivedAt, batch.epoch).finally(() => {
        this.#inFlight.delete(task);
        this.#pump();
      });
      this.#inFlight.add(task);
    }
    this.#applyFlow();
  }

  /** Registers the chunk's records per partition; drops records of partitions not (or no longer) owned. */
  #track(records: ConsumedRecord[]): { records: ConsumedRecord[]; segments: Segment[] } {
    const byPartition = new Map<string, ConsumedRecord[]>();
    for (const r of records) {
      const key = partitionKey(r.topic, r.partition);
      let list = byPartition.get(key);
      if (list === undefined) byPartition.set(key, (list = []));
      list.push(r);
    }
    const kept: ConsumedRecord[] = [];
    const segments: Segment[] = [];
    for (const list of byPartition.values()) {
      const first = list[0]!;
      const last = list[list.length - 1]!;
      const segment = this.#tracker.add(first.topic, first.partition, first.offset, last.offset, last.leaderEpoch, first.generation);
      if (segment === undefined) continue;
      segments.push(segment);
      kept.push(...list);
    }
    return { records: kept, segments };
  }

  async #process(records: ConsumedRecord[], segments: Segment[], receivedAt: number, epoch: number): Promise<void> {
    const dlq = this.#config.deadLetterTopic;
    const messages = records.map((r) => toRawMessage(r, receivedAt));
    let outcomes: UplinkOutcome[];
    try {
      // No retry loop here: `submit` waits for a platform that is down, and rejects only when
      // the integration stops (or for a bug in this connector).
      outcomes = await this.#ctx.uplink.submit(messages, { deadLetters: dlq ? 'caller' : 'host' });
    } catch (error) {
      // Left uncommitted: Kafka redelivers it to whoever consumes the partition next.
      if (!isShutdownError(error)) this.#ctx.logger.error({ err: error, records: records.length }, 'submit failed; the records stay uncommitted');
      return;
    }
    if (dlq !== undefined) {
      const failed = failedRecords(records, outcomes).map(({ record, error }) => deadLetterRecord(dlq, record, error, this.#ctx.name));
      if (failed.length > 0) {
        try {
          await retry(() => this.#dlqProducer().send(failed), {
            signal: this.#signal,
            initialDelayMs: 200,
            maxDelayMs: 5000,
            retryIf: () => true, // a dead-letter topic that cannot be written holds the partition, as an outage would
            onRetry: ({ error, attempt, delayMs }) =>
              this.#ctx.logger.warn({ err: error, attempt, retryInMs: delayMs }, 'dead-letter produce failed; retrying'),
          });
        } catch (error) {
          if (!isShutdownError(error)) throw error;
          return;
        }
        this.#metrics.deadLetters.inc({}, failed.length);
        this.#ctx.logger.warn({ count: failed.length, topic: dlq }, 'conversion failed; records sent to the dead-letter topic');
      }
    }
    if (epoch !== this.#epoch) return;
    for (const segment of segments) this.#tracker.complete(segment);
    this.#scheduleCommit();
  }

  #scheduleCommit(): void {
    if (this.#commitTimer !== undefined || this.#stopping) return;
    this.#commitTimer = setTimeout(() => {
      this.#commitTimer = undefined;
      void this.#commitNow();
    }, this.#config.commitIntervalMs);
  }

  /** Commits every partition's stored offset; one commit at a time. */
  async #commitNow(): Promise<void> {
    while (this.#committing !== undefined) await this.#committing;
    const points = this.#tracker.commitPoints();
    if (points.length === 0 || this.#consumer === undefined) return;
    this.#tracker.markCommitted(points);
    this.#committing = this.#consumer
      .commit(points)
      .then(() => {
        this.#metrics.committed.inc({ result: 'ok' });
        this.#ctx.logger.debug({ offsets: points.map((p) => `${p.topic}/${p.partition}@${p.offset}`) }, 'kafka offsets committed');
      })
      .catch((error: unknown) => {
        this.#tracker.uncommit(points);
        this.#metrics.committed.inc({ result: 'failed' });
        this.#ctx.logger.warn({ err: error, partitions: points.length }, 'offset commit failed; retrying with the next batch');
        this.#scheduleCommit();
      })
      .finally(() => {
        this.#committing = undefined;
      });
    await this.#committing;
  }

  #onAssigned(partitions: TopicPartition[], generation: number): void {
    this.#restarting = undefined;
    // What is stored is committed (revoked partitions included); what is still in the pipeline
    // is dropped from tracking and redelivered to whoever owns the partition now.
    const stored = this.#tracker.commitPoints();
    const { added, revoked } = this.#tracker.assign(partitions, generation);
    if (stored.length > 0 && this.#consumer !== undefined) {
      this.#consumer.commit(stored).catch((error: unknown) => this.#ctx.logger.warn({ err: error }, 'commit on rebalance failed'));
    }
    if (added.length > 0 || revoked.length > 0) {
      this.#ctx.logger.info({ generation, assigned: partitions.length, added: added.length, revoked: revoked.length }, 'kafka partitions assigned');
    }
    for (const p of revoked) this.#metrics.lag.set({ topic: p.topic, partition: String(p.partition) }, 0);
  }

  #onRestarted(error: Error): void {
    this.#restarting = this.#driver.describeError(error);
    this.#epoch += 1;
    this.#tracker.reset();
    this.#backlog = [];
    this.#ctx.logger.warn({ err: error }, 'kafka consumer stream failed; re-creating it (reads again from the committed offsets)');
  }

  #applyFlow(): void {
    const full = this.#backlog.length > 0 || this.#inFlight.size >= this.#config.maxInFlightBatches;
    const shouldPause = this.#hostPaused || full || this.#stopping;
    if (shouldPause === this.#flowPaused) return;
    this.#flowPaused = shouldPause;
    this.#ctx.logger.debug(
      { paused: shouldPause, host: this.#hostPaused, inFlight: this.#inFlight.size, backlog: this.#backlog.length },
      'kafka fetching paused/resumed',
    );
    this.#metrics.paused.set({}, shouldPause ? 1 : 0);
    if (shouldPause) this.#consumer?.pause();
    else this.#consumer?.resume();
  }

  async #measureLag(): Promise<void> {
    if (this.#consumer === undefined || this.#stopping) return;
    const committed = this.#tracker.committedOffsets().filter((p) => p.offset >= 0n);
    try {
      const ends = await this.#consumer.endOffsets(committed);
      for (const p of committed) {
        const end = ends.get(partitionKey(p.topic, p.partition));
        if (end !== undefined) this.#metrics.lag.set({ topic: p.topic, partition: String(p.partition) }, Number(end - p.offset));
      }
    } catch (error) {
      this.#ctx.logger.debug({ err: error }, 'could not measure consumer lag');
    }
  }

  #resolveTopics(): Promise<string[]> {
    return resolveTopics(this.#config, this.#driver);
  }

  async #refreshTopics(): Promise<void> {
    try {
      const topics = await this.#resolveTopics();
      if (topics.join('\n') === this.#topics.join('\n') || this.#stopping) return;
      this.#ctx.logger.info({ topics }, 'topic pattern matches another set of topics; resubscribing');
      this.#topics = topics;
      await this.#commitNow();
      await this.#consumer?.setTopics(topics);
    } catch (error) {
      this.#ctx.logger.warn({ err: error }, 'topic pattern refresh failed');
    }
  }
}

function failedRecords(records: ConsumedRecord[], outcomes: UplinkOutcome[]) {
  const failed: Array<{ record: ConsumedRecord; error: Extract<UplinkOutcome, { status: 'failed' }>['error'] }> = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'failed') failed.push({ record: records[i]!, error: outcome.error });
  });
  return failed;
}
