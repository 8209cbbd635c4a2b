import { DeliveryError, type Backoff, type Logger } from '@tbi/plugin-api';
import { GatewayConnection, isAuthRefusal, type ConnectionSettings } from './gateway-connection.js';
import { packMessages, type GatewayMessage } from './gateway-messages.js';
import type { Outbox } from './outbox.js';
import { Pacer } from './session-limits.js';

export interface ForwarderDeps {
  outbox: Outbox;
  settings: ConnectionSettings;
  logger: Logger;
  backoff: Backoff;
  rateLimitFraction: number;
  deviceIdleMs: number;
  now: () => number;
  /** A message from ThingsBoard (RPC, attribute update, device RPC reply). */
  onMessage: (topic: string, payload: Buffer) => void;
  /** Waits for the reply of device RPC `n` (used for `getSessionLimits`). */
  waitReply: (n: number, timeoutMs: number) => Promise<unknown>;
  /** Rows acknowledged by ThingsBoard and removed (or, `refused`, moved aside as malformed). */
  onRemoved: (seqs: readonly number[], refused?: boolean) => void;
  onState: (state: { connected: boolean; error?: string }) => void;
}

const BATCH_ROWS = 2000;
/** Room left in each PUBLISH for MQTT framing: payloads stay below 90 % of `maxPayloadSize`. */
const PAYLOAD_SHARE = 0.9;

/**
 * Forwards the outbox to ThingsBoard: one connection at a time, reconnected with the kit's
 * backoff; `connect` for each device before its first data of a session (and for those
 * connected before a restart); messages packed under the payload limit, paced below the rate
 * limits, at most `maxInflightMessages` unacknowledged; rows removed only on PUBACK.
 */
export class Forwarder {
  readonly #d: ForwarderDeps;
  readonly #abort = new AbortController();
  #connection: GatewayConnection | undefined;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #sessionDevices = new Set<string>();
  /** Messages per second the client allows itself after quota refusals the session limits did not announce. */
  #selfLimit: number | undefined;
  #quotaHit = false;
  /** Rows of a refused multi-row message, sent one per message until ThingsBoard takes or refuses each. */
  readonly #solo = new Set<number>();

  constructor(deps: ForwarderDeps) {
    this.#d = deps;
  }

  get connected(): boolean {
    return this.#connection !== undefined && !this.#connection.closed;
  }

  /** Tries the first connection; a refused token rejects, an unreachable server does not. */
  async start(): Promise<void> {
    let first: GatewayConnection | undefined;
    try {
      first = await GatewayConnection.connect(this.#d.settings, this.#d.onMessage);
    } catch (error) {
      if (isAuthRefusal(error)) throw error;
      this.#d.logger.warn({ err: error }, 'ThingsBoard is not reachable yet; records wait in the outbox');
      this.#d.onState({ connected: false, error: (error as Error).message });
    }
    this.#running = this.#loop(first);
    if (this.#d.deviceIdleMs > 0) {
      this.#idleTimer = setInterval(() => void this.#disconnectIdle(), Math.min(this.#d.deviceIdleMs / 2, 10_000));
      this.#idleTimer.unref();
    }
  }

  /** Publishes now on the current session (not through the outbox); rejects when there is none. */
  publishNow(topic: string, payload: Buffer): Promise<void> {
    const c = this.#connection;
    if (!c || c.closed) return Promise.reject(new DeliveryError('ThingsBoard is not connected', { retryable: true }));
    return c.publish(topic, payload);
  }

  /** ThingsBoard dropped the device's session (MQTT 5 `v1/gateway/disconnect`): connect it again before its next data. */
  forgetDevice(name: string): void {
    this.#sessionDevices.delete(name);
  }

  /** New rows are waiting. */
  notify(): void {
    this.#wake?.();
  }

  async close(): Promise<void> {
    this.#abort.abort();
    clearInterval(this.#idleTimer);
    this.#connection?.close();
    this.#wake?.();
    await this.#running;
  }

  async #loop(first: GatewayConnection | undefined): Promise<void> {
    let connection = first;
    while (!this.#abort.signal.aborted) {
      try {
        connection ??= await GatewayConnection.connect(this.#d.settings, this.#d.onMessage);
        this.#connection = connection;
        await this.#session(connection);
      } catch (error) {
        if (this.#abort.signal.aborted) break;
        if (this.#quotaHit) {
          this.#quotaHit = false;
          // Limits the server enforces without announcing them (a tenant profile changed): halve our own pace.
          this.#selfLimit = this.#selfLimit === undefined ? 100 : Math.max(1, Math.floor(this.#selfLimit / 2));
          this.#d.logger.warn({ messagesPerSecond: this.#selfLimit }, 'ThingsBoard refused a message (quota exceeded); pacing down');
        }
        const refused = isAuthRefusal(error);
        this.#d.logger[refused ? 'error' : 'warn'](
          { err: error, attempt: this.#d.backoff.attempt + 1 },
          'ThingsBoard session ended; reconnecting with backoff',
        );
        this.#d.onState({ connected: false, error: (error as Error).message });
      }
      connection?.close();
      connection = undefined;
      this.#connection = undefined;
      try {
        await this.#d.backoff.wait(this.#abort.signal);
      } catch {
        break;
      }
    }
  }

  async #session(c: GatewayConnection): Promise<void> {
    const d = this.#d;
    const lost = new Promise<never>((_, reject) => c.onClose(reject));
    lost.catch(() => {});
    const limits = await Promise.race([c.learnLimits(5000, d.waitReply), lost]);
    d.logger.info({ server: c.where, limits }, 'connected to ThingsBoard as a gateway');
    d.onState({ connected: true });
    const maxBytes = Math.floor(Math.min(limits.maxPayloadSize, 65_536) * PAYLOAD_SHARE);
    const inflightMax = Math.max(1, limits.maxInflightMessages);
    const paceAll = new Pacer(limits.messages, d.rateLimitFraction);
    const paceSelf = new Pacer(this.#selfLimit === undefined ? [] : [{ count: this.#selfLimit, seconds: 1 }], 1);
    const paceTele = new Pacer(limits.telemetryMessages, d.rateLimitFraction);
    const pacePoints = new Pacer(limits.telemetryDataPoints, d.rateLimitFraction);
    const sessionDevices = new Set<string>();
    this.#sessionDevices = sessionDevices;
    const inflight = new Set<Promise<void>>();
    let failure: unknown;
    let acked = false;
    const send = async (m: GatewayMessage) => {
      while (inflight.size >= inflightMax) await Promise.race([Promise.race(inflight), lost]);
      // Every limit must have room before any is charged, so waiting on one does not use up another.
      const costs: Array<[Pacer, number]> = [
        [paceSelf, 1],
        [paceAll, 1],
      ];
      if (m.topic.endsWith('telemetry')) costs.push([paceTele, 1], [pacePoints, m.points]);
      for (;;) {
        const now = Date.now();
        const wait = Math.max(...costs.map(([pacer, n]) => pacer.delay(n, now)));
        if (wait === 0) break;
        await Promise.race([new Promise((r) => setTimeout(r, wait)), lost]);
      }
      for (const [pacer, n] of costs) pacer.consume(n);
      if (failure !== undefined) throw failure;
      const p = c
        .publish(m.topic, m.payload)
        .then(
          () => {
            if (m.seqs.length === 1) this.#solo.delete(m.seqs[0]!);
            if (m.seqs.length > 0) {
              d.outbox.remove(m.seqs);
              d.onRemoved(m.seqs);
            }
            if (!acked) {
              acked = true;
              d.backoff.reset();
            }
          },
          (error: unknown) => {
            failure ??= error;
            if (isQuotaRefusal(error)) this.#quotaHit = true;
            const refusal = formatRefusal(error);
            if (refusal !== undefined && m.seqs.length > 1) {
              // Which row is bad? Send each alone next time; only a row refused alone is moved aside.
              for (const seq of m.seqs) this.#solo.add(seq);
            } else if (refusal !== undefined && m.seqs.length === 1) {
              this.#solo.delete(m.seqs[0]!);
              d.outbox.quarantine(m.seqs, refusal, d.now());
              d.onRemoved(m.seqs, true);
              d.logger.error(
                { server: c.where, rows: m.seqs.length, devices: m.devices, reason: refusal },
                "ThingsBoard refused a message as malformed; its rows are kept in the outbox's refused table",
              );
            }
          },
        )
        .finally(() => inflight.delete(p));
      inflight.add(p);
    };
    const connectDevice = async (name: string, type: string) => {
      sessionDevices.add(name);
      d.outbox.setConnected(name, true);
      await send({ topic: 'v1/gateway/connect', payload: Buffer.from(JSON.stringify({ device: name, type })), seqs: [], devices: [name], points: 0 });
    };
    // Devices connected before a restart: connect them again so ThingsBoard routes their RPCs here.
    for (const device of d.outbox.connectedDevices()) await connectDevice(device.name, device.type);
    let after = 0;
    while (!this.#abort.signal.aborted) {
      if (failure !== undefined) throw failure;
      const rows = d.outbox.next(after, BATCH_ROWS);
      if (rows.length === 0) {
        const woken = new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, 200);
        });
        await Promise.race([woken, lost]);
        continue;
      }
      after = rows[rows.length - 1]!.seq;
      for (const message of packMessages(rows, maxBytes, this.#solo)) {
        for (const name of message.devices) {
          if (!sessionDevices.has(name) && message.topic !== 'v1/gateway/rpc') {
            await connectDevice(name, d.outbox.device(name)?.type ?? 'default');
          }
        }
        await send(message);
      }
    }
    await Promise.allSettled([...inflight]);
  }

  async #disconnectIdle(): Promise<void> {
    const c = this.#connection;
    if (!c || c.closed) return;
    for (const name of this.#d.outbox.idleDevices(this.#d.now() - this.#d.deviceIdleMs)) {
      // Forgotten before the publish, so data that comes meanwhile is preceded by a new connect.
      this.#sessionDevices.delete(name);
      this.#d.outbox.setConnected(name, false);
      try {
        await c.publish('v1/gateway/disconnect', Buffer.from(JSON.stringify({ device: name })));
      } catch {
        return;
      }
    }
  }
}

/** A PUBACK with reason 0x97 (quota exceeded), as mqtt.js reports it. */
function isQuotaRefusal(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === 0x97;
}

/** A PUBACK saying the message itself is wrong (MQTT 5: 0x99 payload format invalid, 0x95 too large): resending cannot help. */
function formatRefusal(error: unknown): string | undefined {
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (code === 0x99) return 'payload format invalid (0x99)';
  if (code === 0x95) return 'packet too large (0x95)';
  return undefined;
}
