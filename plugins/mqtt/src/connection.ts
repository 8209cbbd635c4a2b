import { Backoff, type BackoffOptions, type Counter, type Gauge, type IntegrationHealth, type Logger } from '@tbi/plugin-api';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** What the connection tells its owner. */
export interface ConnectionHandlers {
  /** After every CONNACK: subscribe, start a new acknowledgement epoch. */
  onConnect(sessionPresent: boolean): void;
  /** The connection is gone (messages not acknowledged on it will be redelivered). */
  onClose(): void;
}

export interface ConnectionOptions {
  client: IClientOptions;
  reconnect: BackoffOptions;
  /** For logs and health, e.g. `mqtt://127.0.0.1:1883`; never carries credentials. */
  url: string;
  logger: Logger;
  metrics: { connected: Gauge; reconnects: Counter };
}

/**
 * One MQTT client connection that reconnects for ever with exponential backoff (the `mqtt`
 * client's own reconnection has a fixed period, so it is turned off and driven from here), and
 * reports its state for `health()` and the `tbi_mqtt_connected` gauge.
 */
export class MqttConnection {
  readonly client: MqttClient;
  #state: 'starting' | 'up' | 'down' | 'stopped' = 'starting';
  readonly #backoff: Backoff;
  #lastError: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #firstOutcome: (() => void) | undefined;
  /** While reads are held: sends PINGREQs and keeps the client's keepalive from timing out. */
  #holdTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.#backoff = new Backoff(options.reconnect);
    this.client = mqtt.connect({ ...options.client, reconnectPeriod: 0, manualConnect: true, resubscribe: false });
    const { logger, metrics } = options;
    this.client.on('connect', (connack) => {
      const sessionPresent = connack.sessionPresent;
      if (this.#backoff.attempt > 0 || this.#state !== 'starting')
        logger.info({ url: options.url, attempts: this.#backoff.attempt, sessionPresent }, 'reconnected to the MQTT broker');
      else logger.info({ url: options.url, clientId: this.client.options.clientId, sessionPresent }, 'connected to the MQTT broker');
      this.#state = 'up';
      this.#backoff.reset();
      this.#lastError = undefined;
      metrics.connected.set({}, 1);
      this.handlers.onConnect(sessionPresent);
      this.#settleFirst();
    });
    this.client.on('error', (error) => {
      this.#lastError = error.message;
      logger.debug({ url: options.url, err: error.message }, 'MQTT connection error');
    });
    this.client.on('disconnect', (packet) => {
      this.#lastError = `broker sent DISCONNECT (reason ${packet.reasonCode ?? 0})`;
      logger.warn({ url: options.url, reasonCode: packet.reasonCode, reason: packet.properties?.reasonString }, 'the MQTT broker closed the session');
    });
    this.client.on('close', () => {
      this.releaseReads();
      metrics.connected.set({}, 0);
      const wasUp = this.#state === 'up';
      this.handlers.onClose();
      if (this.#stopping) return;
      this.#state = 'down';
      if (wasUp) logger.warn({ url: options.url, err: this.#lastError }, 'lost the connection to the MQTT broker; reconnecting');
      this.#scheduleReconnect();
      this.#settleFirst();
    });
  }

  /**
   * Connects. Resolves after the first attempt either way: a broker that is down at start is not a
   * failure of the integration, which keeps reconnecting and reports `down` meanwhile.
   */
  start(): Promise<void> {
    const first = new Promise<void>((resolve) => (this.#firstOutcome = resolve));
    this.client.connect();
    return first;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  health(): IntegrationHealth {
    const { url } = this.options;
    switch (this.#state) {
      case 'up':
        return { status: 'up', detail: `connected to ${url} as ${this.client.options.clientId}` };
      case 'starting':
        return { status: 'starting', detail: `connecting to ${url}` };
      case 'down':
        return { status: 'down', detail: `reconnecting to ${url} (attempt ${this.#backoff.attempt})${this.#lastError ? `: ${this.#lastError}` : ''}` };
      default:
        return { status: 'stopped' };
    }
  }

  /** Disconnects cleanly (DISCONNECT, so the broker keeps the persistent session), within `timeoutMs`. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#settleFirst();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => this.client.end(true, {}, () => resolve()), timeoutMs);
      this.client.end(false, {}, () => {
        clearTimeout(force);
        resolve();
      });
    });
    this.#state = 'stopped';
    this.options.metrics.connected.set({}, 0);
  }

  /** Drops the connection (the broker redelivers what is unacknowledged) and reconnects with backoff. */
  recycle(reason: string): void {
    if (this.#stopping || !this.client.connected) return;
    this.#lastError = reason;
    this.options.logger.warn({ url: this.options.url, reason }, 'dropping the MQTT connection to get unacknowledged messages redelivered');
    this.client.stream.destroy();
  }

  /**
   * The source stopped reading the socket (the pipeline is full): PUBLISHes wait in the kernel's
   * buffers and the broker's queue, and so would a PINGRESP behind them. The `mqtt` client closes
   * the connection 1.5 keepalives after the last packet it read, so while reads are held this
   * writes a PINGREQ every half keepalive (the broker sees the client alive) and re-arms the
   * client's timer (it cannot read the answer yet). The PINGRESPs are read once reading resumes;
   * a broker that died meanwhile is noticed then, or when a write fails.
   */
  holdReads(): void {
    const seconds = this.client.keepalive; // the server's keepalive when its CONNACK set one
    if (this.#holdTimer !== undefined || seconds <= 0) return;
    this.#holdTimer = setInterval(
      () => {
        if (!this.client.connected) return;
        this.client.sendPing();
        this.client.reschedulePing(true);
      },
      (seconds * 1000) / 2,
    );
    this.#holdTimer.unref();
  }

  /** Reading resumed (or the connection closed): the client's own keepalive takes over again. */
  releaseReads(): void {
    if (this.#holdTimer === undefined) return;
    clearInterval(this.#holdTimer);
    this.#holdTimer = undefined;
    if (this.client.connected) this.client.reschedulePing(true);
  }

  #scheduleReconnect(): void {
    if (this.#timer !== undefined || this.#stopping) return;
    const delay = this.#backoff.next();
    this.options.logger.debug({ url: this.options.url, attempt: this.#backoff.attempt, delayMs: delay }, 'reconnecting to the MQTT broker');
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopping) return;
      this.options.metrics.reconnects.inc({});
      // Keep the stores: QoS 2 messages received (PUBREC sent) but not yet released by PUBREL
      // live in the incoming store, and the broker sends only the PUBREL after a reconnection.
      this.client.reconnect({ incomingStore: this.client.incomingStore, outgoingStore: this.client.outgoingStore });
    }, delay);
  }

  #settleFirst(): void {
    const resolve = this.#firstOutcome;
    this.#firstOutcome = undefined;
    resolve?.();
  }
}
