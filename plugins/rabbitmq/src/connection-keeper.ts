import { Backoff, type BackoffOptions, type Counter, type Gauge, type Logger } from '@tbi/plugin-api';
import { describeBroker } from './connection-options.js';
import type { AmqpDriver, ConnectionDriver, ConnectionOptions } from './driver/types.js';
import { isAccessRefused } from './errors.js';

/** Runs on every (re)connect, in order: declare topology, open channels, resubscribe. */
export type OnConnected = (connection: ConnectionDriver) => Promise<void>;

export interface KeeperMetrics {
  reconnects: Counter;
  connected: Gauge;
}

/**
 * Keeps one AMQP connection up: connects, runs the setup steps, and when the connection (or a
 * channel, through `fail`) breaks, connects again after a backoff delay and runs them again.
 * This is the only place in the package that schedules reconnects.
 */
export class ConnectionKeeper {
  readonly #options: ConnectionOptions;
  readonly #driver: AmqpDriver;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #backoff: Backoff;
  readonly #metrics: KeeperMetrics;
  readonly #setups: OnConnected[] = [];
  #connection: ConnectionDriver | undefined;
  #state: 'idle' | 'connecting' | 'up' | 'waiting' | 'stopped' = 'idle';
  #lastError: Error | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt: Promise<void> | undefined;

  constructor(options: ConnectionOptions, driver: AmqpDriver, logger: Logger, name: string, backoff: BackoffOptions, metrics: KeeperMetrics) {
    this.#options = options;
    this.#driver = driver;
    this.#logger = logger;
    this.#name = name;
    this.#backoff = new Backoff(backoff);
    this.#metrics = metrics;
  }

  /** Adds a setup step; steps run in the order added. */
  onConnected(step: OnConnected): void {
    this.#setups.push(step);
  }

  /**
   * First connection. Rejects when the broker refuses the login or vhost (a setting to fix);
   * when it is unreachable, resolves and keeps trying in the background.
   */
  async start(): Promise<void> {
    try {
      await this.#connectOnce();
    } catch (error) {
      if (isAccessRefused(error)) {
        this.#state = 'stopped';
        throw error;
      }
      this.#schedule(error as Error);
    }
  }

  /** The connection when it is up and set up. */
  get connection(): ConnectionDriver | undefined {
    return this.#state === 'up' ? this.#connection : undefined;
  }

  get state() {
    return this.#state;
  }

  get lastError(): Error | undefined {
    return this.#lastError;
  }

  get broker(): string {
    return describeBroker(this.#options);
  }

  /** A channel broke (or setup found a problem): drop the connection and reconnect. */
  fail(error: Error): void {
    if (this.#state !== 'up') return;
    this.#logger.warn({ err: error, broker: this.broker }, 'rabbitmq channel failed; reconnecting');
    const connection = this.#connection;
    this.#connection = undefined;
    this.#schedule(error);
    void connection?.close();
  }

  async stop(): Promise<void> {
    this.#state = 'stopped';
    clearTimeout(this.#timer);
    await this.#attempt?.catch(() => {});
    this.#metrics.connected.set({}, 0);
    await this.#connection?.close();
    this.#connection = undefined;
  }

  async #connectOnce(): Promise<void> {
    this.#state = 'connecting';
    const connection = await this.#driver.connect(this.#options, `tbi ${this.#name}`);
    connection.onClose((error) => {
      if (this.#connection !== connection || this.#state === 'stopped') return;
      this.#connection = undefined;
      this.#logger.warn({ err: error, broker: this.broker }, 'rabbitmq connection lost; reconnecting');
      this.#schedule(error ?? new Error('connection closed'));
    });
    connection.onBlocked((blocked, reason) =>
      this.#logger.warn({ blocked, reason }, blocked ? 'rabbitmq blocked publishing (resource alarm)' : 'rabbitmq unblocked publishing'),
    );
    this.#connection = connection;
    try {
      for (const step of this.#setups) await step(connection);
    } catch (error) {
      this.#connection = undefined;
      await connection.close();
      throw error;
    }
    if ((this.#state as string) === 'stopped') return;
    this.#state = 'up';
    this.#lastError = undefined;
    this.#backoff.reset();
    this.#metrics.connected.set({}, 1);
    this.#logger.info({ broker: this.broker }, 'rabbitmq connected');
  }

  #schedule(error: Error): void {
    if (this.#state === 'stopped') return;
    this.#state = 'waiting';
    this.#lastError = error;
    this.#metrics.connected.set({}, 0);
    clearTimeout(this.#timer);
    const delayMs = this.#backoff.next();
    const log = this.#backoff.attempt <= 1 || isAccessRefused(error) ? 'warn' : 'debug';
    this.#logger[log]({ err: error, attempt: this.#backoff.attempt, retryInMs: delayMs, broker: this.broker }, 'rabbitmq not connected; retrying');
    this.#timer = setTimeout(() => {
      this.#metrics.reconnects.inc();
      this.#attempt = this.#connectOnce().catch((e: unknown) => this.#schedule(e as Error));
    }, delayMs);
  }
}
