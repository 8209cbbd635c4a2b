import { Backoff, isShutdownError, retry, type IntegrationContext, type IntegrationHealth, type UplinkOutcome } from '@tbi/plugin-api';
import type { PulsarConfig, UplinkConfig } from './config.js';
import { connectionOptions } from './connection-options.js';
import { isPulsarConnectError, type ConsumerConnection, type PulsarDriver, type ReceivedMessage } from './driver/types.js';
import { toRawMessage } from './message.js';

/** How often the backlog gauge is read from the admin stats (one small HTTP request per topic). */
const BACKLOG_POLL_MS = 10_000;
/** How soon a topic that looked stalled (idle with a backlog) is checked again. */
const STALL_RECHECK_MS = 2_000;
/** How long every connection of a topic must have received nothing before it counts as stalled. */
const STALL_QUIET_MS = 3_000;

/** One consumer connection of one topic; `generation` changes with every reconnect. */
interface Slot {
  topic: string;
  index: number;
  connection: ConsumerConnection | undefined;
  generation: number;
  state: 'connecting' | 'up' | 'down';
  lastError: Error | undefined;
  backoff: Backoff;
  /** Messages of the current connection received and not yet acknowledged or negatively acknowledged. */
  outstanding: number;
  lastMessageAt: number;
}

interface Pending {
  slot: Slot;
  generation: number;
  message: ReceivedMessage;
}

/**
 * The uplink of a `pulsar` integration: `connections` consumer connections per topic on one
 * subscription, their messages gathered into batches (count, bytes or time, whichever first) for
 * the pipeline. A message is acknowledged only after `ctx.uplink.submit` resolved for it; a failed
 * conversion is negatively acknowledged (the broker delivers it again with a higher
 * `redeliveryCount`) until `maxRedeliverCount`, after which the broker moves it to
 * `deadLetterTopic` when one is set, or else the next delivery goes to the host's dead letters.
 * A lost connection drops its unacknowledged messages (the broker delivers them again, and
 * `sourceId` keeps them from being stored twice) and reconnects with the kit's backoff.
 */
export class PulsarSource {
  readonly #ctx: IntegrationContext<PulsarConfig>;
  readonly #config: UplinkConfig;
  readonly #driver: PulsarDriver;
  readonly #slots: Slot[];
  readonly #inFlight = new Set<Promise<void>>();
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #paused = false;
  #stopping = false;
  #backlogTimer: NodeJS.Timeout | undefined;
  readonly #metrics;

  constructor(ctx: IntegrationContext<PulsarConfig>, config: UplinkConfig, driver: PulsarDriver) {
    this.#ctx = ctx;
    this.#config = config;
    this.#driver = driver;
    const { initialDelayMs, maxDelayMs } = ctx.config.reconnect;
    this.#slots = (config.topics ?? []).flatMap((topic) =>
      Array.from(
        { length: config.connections },
        (_, index): Slot => ({
          topic,
          index,
          connection: undefined,
          generation: 0,
          state: 'connecting',
          lastError: undefined,
          backoff: new Backoff({ initialDelayMs, maxDelayMs }),
          outstanding: 0,
          lastMessageAt: Date.now(),
        }),
      ),
    );
    const m = ctx.metrics;
    this.#metrics = {
      consumed: m.counter('tbi_pulsar_messages_consumed_total', 'Messages received from Pulsar'),
      acked: m.counter('tbi_pulsar_messages_acked_total', 'Messages acknowledged after the pipeline stored (or dead-lettered) them'),
      nacked: m.counter('tbi_pulsar_messages_nacked_total', 'Messages negatively acknowledged after a failed conversion (redelivered later)'),
      deadLettered: m.counter('tbi_pulsar_messages_dead_lettered_total', "Failed messages given to the host's dead letters"),
      reconnects: m.counter('tbi_pulsar_reconnects_total', 'Consumer reconnection attempts'),
      stalls: m.counter('tbi_pulsar_stalled_reconnects_total', 'Consumers reconnected because the subscription had a backlog but nothing arrived'),
      connected: m.gauge('tbi_pulsar_consumers_connected', 'Consumer connections open'),
      backlog: m.gauge('tbi_pulsar_backlog_messages', "The subscription's backlog on the broker (admin stats)", ['topic']),
    };
  }

  /** Connects every consumer; rejects when the broker refuses the first attempt (auth, wrong namespace or topic). */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.#slots.map((slot) => this.#connect(slot)));
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && isPulsarConnectError(r.reason));
    if (refused) {
      this.#stopping = true;
      await this.#closeAll();
      throw refused.reason;
    }
    for (const [i, r] of results.entries()) if (r.status === 'rejected') this.#reconnectLater(this.#slots[i]!, r.reason as Error);
    this.#pollBacklog();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#flush();
  }

  /** Takes no new messages, lets batches in the pipeline finish (and acks them), closes the connections. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#backlogTimer);
    this.#pending = [];
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#closeAll();
  }

  health(): IntegrationHealth {
    if (this.#stopping) return { status: 'stopped' };
    const up = this.#slots.filter((s) => s.state === 'up').length;
    const topics = [...new Set(this.#slots.map((s) => s.topic))].join(', ');
    if (up === this.#slots.length)
      return { status: 'up', detail: `consuming ${topics} (subscription ${this.#config.subscriptionName}, ${this.#config.subscriptionType})` };
    const lost = this.#slots.find((s) => s.state === 'down');
    if (lost === undefined) return { status: 'starting', detail: `subscribing to ${topics}` };
    return {
      status: 'degraded',
      detail: `${up} of ${this.#slots.length} consumer connections up; reconnecting to ${lost.topic}: ${lost.lastError?.message ?? 'connection lost'}`,
    };
  }

  async #connect(slot: Slot): Promise<void> {
    slot.state = slot.state === 'down' ? 'down' : 'connecting';
    const generation = ++slot.generation;
    // Before the subscription: frames that came with the upgrade response arrive before
    // `consumer` resolves, and count as this connection's.
    slot.outstanding = 0;
    slot.lastMessageAt = Date.now();
    const c = this.#config;
    const connection = await this.#driver.consumer({
      ...(await connectionOptions(this.#ctx)),
      topic: slot.topic,
      subscription: c.subscriptionName,
      subscriptionType: c.subscriptionType,
      initialPosition: c.initialPosition,
      receiverQueueSize: c.receiverQueueSize,
      negativeAckRedeliveryDelayMs: c.negativeAckRedeliveryDelayMs,
      ...(c.deadLetterTopic ? { deadLetter: { maxRedeliverCount: c.maxRedeliverCount, topic: c.deadLetterTopic } } : {}),
      onMessage: (message) => this.#onMessage(slot, generation, message),
      onClose: (error) => {
        if (slot.generation !== generation) return;
        slot.connection = undefined;
        this.#connected();
        this.#reconnectLater(slot, error);
      },
    });
    if (this.#stopping) {
      await connection.close();
      return;
    }
    slot.connection = connection;
    slot.state = 'up';
    slot.lastError = undefined;
    slot.backoff.reset();
    this.#connected();
    this.#ctx.logger.info(
      { topic: slot.topic, connection: slot.index, subscription: c.subscriptionName, type: c.subscriptionType, driver: this.#driver.name },
      'pulsar consumer subscribed',
    );
  }

  #reconnectLater(slot: Slot, error: Error): void {
    if (this.#stopping) return;
    slot.state = 'down';
    slot.generation++;
    slot.lastError = error;
    this.#ctx.logger.warn(
      { err: error, topic: slot.topic, connection: slot.index, attempt: slot.backoff.attempt + 1 },
      'pulsar consumer connection lost; reconnecting',
    );
    void slot.backoff.wait(this.#ctx.signal).then(
      () => {
        if (this.#stopping) return;
        this.#metrics.reconnects.inc();
        this.#connect(slot).catch((e: unknown) => this.#reconnectLater(slot, e as Error));
      },
      () => {}, // stopped while waiting
    );
  }

  #connected(): void {
    this.#metrics.connected.set({}, this.#slots.filter((s) => s.connection !== undefined).length);
  }

  async #closeAll(): Promise<void> {
    await Promise.allSettled(
      this.#slots.map(async (slot) => {
        slot.generation++;
        const c = slot.connection;
        slot.connection = undefined;
        await c?.close();
      }),
    );
    this.#connected();
  }

  #onMessage(slot: Slot, generation: number, message: ReceivedMessage): void {
    if (this.#stopping || slot.generation !== generation) return; // not acked: delivered again
    slot.outstanding++;
    slot.lastMessageAt = Date.now();
    this.#pending.push({ slot, generation, message });
    this.#pendingBytes += message.payload.length;
    const b = this.#config.batch;
    if (this.#pending.length >= b.maxMessages || this.#pendingBytes >= b.maxBytes) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), b.timeoutMs);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#paused || this.#stopping) return;
    const b = this.#config.batch;
    while (this.#pending.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < this.#pending.length && n < b.maxMessages && (n === 0 || bytes + this.#pending[n]!.message.payload.length <= b.maxBytes)) {
        bytes += this.#pending[n]!.message.payload.length;
        n++;
      }
      this.#pendingBytes -= bytes;
      this.#track(this.#process(this.#pending.splice(0, n)));
    }
  }

  #track(task: Promise<void>): void {
    const t = task
      .catch((error: unknown) => this.#ctx.logger.error({ err: error }, 'pulsar batch failed unexpectedly; its messages stay unacknowledged'))
      .finally(() => this.#inFlight.delete(t));
    this.#inFlight.add(t);
  }

  async #process(batch: Pending[]): Promise<void> {
    this.#metrics.consumed.inc({}, batch.length);
    const receivedAt = this.#ctx.clock.now();
    // Without a broker dead-letter topic, a message that has used up its redeliveries goes to the
    // host's dead letters; every other failure is handed back to the broker with a negative ack.
    const brokerDlq = this.#config.deadLetterTopic !== undefined;
    const last = (p: Pending) => !brokerDlq && p.message.redeliveryCount >= this.#config.maxRedeliverCount;
    const groups = [batch.filter((p) => !last(p)), batch.filter(last)];
    try {
      await Promise.all(
        groups.map(async (group, i) => {
          if (group.length === 0) return;
          const messages = group.map((p) => toRawMessage(p.message, receivedAt));
          const outcomes = await this.#retrying(() => this.#ctx.uplink.submit(messages, { deadLetters: i === 0 ? 'caller' : 'host' }));
          this.#settle(group, outcomes);
        }),
      );
    } catch (error) {
      if (isShutdownError(error)) return; // left unacknowledged: the broker delivers them again
      throw error;
    }
  }

  #settle(group: Pending[], outcomes: UplinkOutcome[]): void {
    let acked = 0;
    outcomes.forEach((outcome, i) => {
      const p = group[i]!;
      // A connection lost since: the broker delivers these again (sourceId prevents doubles).
      if (p.slot.generation !== p.generation || p.slot.connection === undefined) return;
      p.slot.outstanding--;
      if (outcome.status === 'failed') {
        p.slot.connection.negativeAck(p.message.messageId);
        this.#metrics.nacked.inc();
        this.#ctx.logger.warn(
          { topic: p.message.topic, messageId: p.message.messageId, redeliveryCount: p.message.redeliveryCount, error: outcome.error },
          'conversion failed; negatively acknowledged',
        );
        return;
      }
      if (outcome.status === 'dead-lettered') this.#metrics.deadLettered.inc();
      p.slot.connection.ack(p.message.messageId);
      acked++;
    });
    this.#metrics.acked.inc({}, acked);
  }

  #retrying<T>(fn: () => Promise<T>): Promise<T> {
    return retry(fn, {
      signal: this.#ctx.signal,
      initialDelayMs: 200,
      maxDelayMs: 5000,
      onRetry: ({ error, attempt, delayMs }) => this.#ctx.logger.warn({ err: error, attempt, retryInMs: delayMs }, 'submit failed; retrying'),
    });
  }

  /**
   * The backlog gauge, from the admin stats every 10 s (one small HTTP request per topic), and a
   * stall watchdog: the WebSocket service sometimes stops sending a consumer's last messages
   * (measured here: a few hundred of 100,000 under load) until the consumer reconnects. When the
   * subscription's backlog did not go down since the last poll, and every connection of the
   * topic has settled all it received and got nothing for a while, those connections reconnect;
   * the broker then delivers the held messages again. "A while" is 3 s, or 3 negative-ack delays
   * (a nacked message is redelivered only after that delay, and nothing arrives meanwhile), and a
   * topic found idle with a backlog is polled again after 2 s instead of 10: a stall near the end
   * of a drain cost up to 30 s with a fixed 10 s poll and 10 s of quiet, and now about 5–12 s.
   * A false alarm is cheap: only connections with nothing unsettled are reopened.
   */
  #pollBacklog(): void {
    const backlog = this.#driver.backlog?.bind(this.#driver);
    if (!backlog || this.#stopping) return;
    const topics = [...new Set(this.#slots.map((s) => s.topic))];
    const previous = new Map<string, number>();
    const quietMs = Math.max(STALL_QUIET_MS, 3 * this.#config.negativeAckRedeliveryDelayMs);
    const poll = async () => {
      const options = await connectionOptions(this.#ctx).catch(() => ({}));
      let suspect = false;
      for (const topic of topics) {
        const n = await backlog(topic, this.#config.subscriptionName, options).catch(() => undefined);
        if (n === undefined) continue;
        this.#metrics.backlog.set({ topic }, n);
        const before = previous.get(topic);
        previous.set(topic, n);
        const slots = this.#slots.filter((s) => s.topic === topic);
        const idle = slots.every((s) => s.state === 'up' && s.outstanding === 0 && Date.now() - s.lastMessageAt > quietMs);
        const waiting = n > 0 && idle && !this.#paused && this.#pending.length === 0;
        if (waiting && (before === undefined || n < before)) suspect = true;
        if (waiting && before !== undefined && n >= before) {
          this.#ctx.logger.warn({ topic, backlog: n }, 'pulsar subscription has a backlog but nothing arrives; reconnecting its consumers');
          this.#metrics.stalls.inc();
          previous.delete(topic);
          for (const slot of slots) await this.#reopen(slot);
        }
      }
      if (!this.#stopping) this.#backlogTimer = setTimeout(() => void poll(), suspect ? STALL_RECHECK_MS : BACKLOG_POLL_MS).unref();
    };
    void poll();
  }

  async #reopen(slot: Slot): Promise<void> {
    const c = slot.connection;
    slot.generation++;
    slot.connection = undefined;
    this.#connected();
    await c?.close().catch(() => {});
    if (this.#stopping) return;
    await this.#connect(slot).catch((e: unknown) => this.#reconnectLater(slot, e as Error));
  }
}
