import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { DeliveryError, PluginError } from '@tbi/plugin-api';
import { DEFAULT_LIMITS, parseSessionLimits, type SessionLimits } from './session-limits.js';

/** How to reach ThingsBoard's MQTT transport as a gateway. */
export interface ConnectionSettings {
  host: string;
  port: number;
  accessToken: string;
  protocolVersion: 4 | 5;
  clientId: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  connectTimeoutMs: number;
  keepaliveSeconds: number;
}

/** Why ThingsBoard refused the CONNECT, by CONNACK code (MQTT 3.1.1 and 5). */
const REFUSALS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client id rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized (wrong or unknown access token)',
  // MQTT 5 reason codes 0x84, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x97:
  132: 'unsupported protocol version',
  134: 'bad user name or password',
  135: 'not authorized (wrong or unknown access token)',
  136: 'server unavailable',
  137: 'server busy',
  138: 'banned',
  151: 'quota exceeded',
};

/** The refused CONNECT of a wrong token: retrying cannot fix it. */
export function isAuthRefusal(error: unknown): error is PluginError {
  return error instanceof PluginError && error.code === 'THINGSBOARD_REFUSED';
}

/** One MQTT session to ThingsBoard as the gateway device. */
export class GatewayConnection {
  limits: SessionLimits = DEFAULT_LIMITS;
  readonly #client: MqttClient;
  readonly #where: string;
  #rpcN = 0;
  #closed = false;
  readonly #onClose = new Set<(error: Error) => void>();

  private constructor(client: MqttClient, where: string) {
    this.#client = client;
    this.#where = where;
    const lost = (error: Error) => {
      if (this.#closed) return;
      this.#closed = true;
      for (const f of this.#onClose) f(error);
    };
    client.on('close', () => lost(new DeliveryError(`the connection to ThingsBoard at ${where} closed`, { retryable: true })));
    client.on('error', (error) => lost(error));
  }

  /** Where it connects, e.g. `mqtt://tb.example.com:1883`. */
  get where(): string {
    return this.#where;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Connects and subscribes to RPCs and attribute updates. Rejects with `PluginError`
   * `THINGSBOARD_REFUSED` when the server refuses the token, else a retryable `DeliveryError`.
   */
  static connect(s: ConnectionSettings, onMessage: (topic: string, payload: Buffer) => void): Promise<GatewayConnection> {
    const where = `${s.tls ? 'mqtts' : 'mqtt'}://${s.host}:${s.port}`;
    const options: IClientOptions = {
      host: s.host,
      port: s.port,
      protocol: s.tls ? 'mqtts' : 'mqtt',
      protocolVersion: s.protocolVersion,
      username: s.accessToken,
      clientId: s.clientId,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: s.connectTimeoutMs,
      keepalive: s.keepaliveSeconds,
      resubscribe: false,
      ...(s.tls ? { ca: s.tls.ca, cert: s.tls.cert, key: s.tls.key, rejectUnauthorized: s.tls.rejectUnauthorized } : {}),
    };
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(options);
      const fail = (error: unknown) => {
        client.removeAllListeners();
        client.on('error', () => {});
        client.end(true);
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'number' && REFUSALS[code] !== undefined && (code === 4 || code === 5 || code === 0x86 || code === 0x87 || code === 0x8a)) {
          reject(
            new PluginError(
              'THINGSBOARD_REFUSED',
              `ThingsBoard at ${where} refused the gateway's connection: ${REFUSALS[code]} (CONNACK code ${code}). Check platform.accessToken: it must be the access token of a device marked "Is gateway".`,
              {
                context: { server: where, code },
                cause: error,
              },
            ),
          );
        } else {
          reject(
            new DeliveryError(`cannot connect to ThingsBoard at ${where}: ${(error as Error).message ?? String(error)}`, { retryable: true, cause: error }),
          );
        }
      };
      client.once('error', fail);
      client.once('close', () => fail(new Error('the connection closed before CONNACK')));
      client.once('connect', () => {
        client.removeAllListeners('error');
        client.removeAllListeners('close');
        const connection = new GatewayConnection(client, where);
        client.on('message', (topic, payload) => onMessage(topic, payload));
        client.subscribe(
          ['v1/gateway/rpc', 'v1/gateway/attributes', 'v1/gateway/attributes/response', 'v1/gateway/disconnect', 'v1/devices/me/rpc/response/+'],
          { qos: 1 },
          (error) => {
            if (error) {
              connection.close();
              reject(new DeliveryError(`subscribing at ThingsBoard ${where} failed: ${error.message}`, { retryable: true, cause: error }));
            } else {
              resolve(connection);
            }
          },
        );
      });
    });
  }

  /** Calls `fn` once when the session ends (closed by either side, or an error). */
  onClose(fn: (error: Error) => void): void {
    this.#onClose.add(fn);
  }

  /** Publishes at QoS 1; resolves on PUBACK. A 0x97 PUBACK or a closed connection rejects (retryable). */
  publish(topic: string, payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new DeliveryError(`the connection to ThingsBoard at ${this.#where} is closed`, { retryable: true }));
      const lost = (error: Error) => reject(new DeliveryError(`ThingsBoard at ${this.#where}: ${error.message}`, { retryable: true, cause: error }));
      this.#onClose.add(lost);
      this.#client.publish(topic, payload, { qos: 1 }, (error) => {
        this.#onClose.delete(lost);
        if (error) lost(error);
        else resolve();
      });
    });
  }

  /** Asks `getSessionLimits` (device RPC to the server); keeps the defaults when no answer comes in time. */
  async learnLimits(timeoutMs: number, waitReply: (n: number, timeoutMs: number) => Promise<unknown>): Promise<SessionLimits> {
    const n = ++this.#rpcN;
    const reply = waitReply(n, timeoutMs).catch(() => undefined);
    await this.publish(`v1/devices/me/rpc/request/${n}`, Buffer.from(JSON.stringify({ method: 'getSessionLimits', params: {} })));
    const answer = await reply;
    if (answer !== undefined) this.limits = parseSessionLimits(answer);
    return this.limits;
  }

  /** Ends the session (in-flight publishes reject). */
  close(): void {
    if (!this.#closed) {
      this.#closed = true;
      for (const f of this.#onClose) f(new DeliveryError('the connection to ThingsBoard was closed by the host', { retryable: true }));
    }
    this.#client.end(true);
  }
}
