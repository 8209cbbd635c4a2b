import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import {
  isGatewayPayloadError,
  parseAttributeRequest,
  parseConnect,
  parseGatewayAttributes,
  parseGatewayTelemetry,
  parseJsonObject,
  parseRpcReply,
  type TbSample,
  type TbValue,
} from './gateway-rules.js';
import { formatRateLimits, FixedWindowLimiter, type RateLimit } from './rate-window.js';

/** What the test server does with PUBACKs of accepted messages. */
export type AckMode = 'normal' | 'stall' | 'drop';

/** Options of `startGatewayTestServer`. */
export interface GatewayTestServerOptions {
  /** The gateway device's access token: the only MQTT username accepted. */
  accessToken: string;
  /** Interface to listen on (default 127.0.0.1) and port (default 0: a free one). */
  host?: string;
  port?: number;
  /** Largest PUBLISH payload (default 65 536, ThingsBoard's `NETTY_MAX_PAYLOAD_SIZE`); larger closes the connection. */
  maxPayloadSize?: number;
  /** Reported by `getSessionLimits` (default 100). */
  maxInflightMessages?: number;
  /** Per-gateway limits, enforced (0x97 PUBACK on MQTT 5, then the connection closes) and reported. */
  rateLimits?: { messages?: RateLimit[]; telemetryMessages?: RateLimit[]; telemetryDataPoints?: RateLimit[] };
  /** Whether `getSessionLimits` tells the rate limits (default true); false: enforced unannounced, as after a tenant profile change. */
  reportRateLimits?: boolean;
  /** How PUBACKs are sent (default `normal`); `setAckMode` changes it. */
  ackMode?: AckMode;
  /** Serve MQTT over TLS (PEM); `ca` + `requestCert` ask for a client certificate, as ThingsBoard's X.509 credentials do. */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
}

/** What the server recorded of one device. */
export interface RecordedDevice {
  name: string;
  type: string;
  /** Whether the gateway has it connected now (`v1/gateway/connect` minus `disconnect`). */
  connected: boolean;
  /** Connect messages received for it. */
  connects: number;
  /** Samples as ThingsBoard stores them: one per timestamp (a repeated `ts` overwrites its keys, as in `ts_kv`). */
  telemetry: TbSample[];
  /** Client attributes, latest value per key. */
  attributes: Record<string, TbValue>;
  /** Shared attributes the server set with `updateAttributes` (answered to attribute requests). */
  shared: Record<string, unknown>;
}

/** A refusal of the server: why it closed a connection or answered with an error code. */
export interface ServerRefusal {
  topic?: string;
  reason: string;
  code?: number;
}

interface Session {
  socket: Socket;
  version: number;
  stalled: Array<() => void>;
  nextId: number;
  /** Refused and closing: the transport reads nothing more from it. */
  dead?: boolean;
}

const RPC_REQUEST = /^v1\/devices\/me\/rpc\/request\/(\d+)$/;

/**
 * A ThingsBoard MQTT transport for gateway clients, in process: a real MQTT 3.1.1/5 server that
 * authenticates by access token, parses gateway messages with ThingsBoard's rules (see
 * `gateway-rules.ts`), answers `getSessionLimits`, enforces payload and rate limits, can stall or
 * drop acknowledgements, records what each device sent, and sends RPCs and attribute updates.
 *
 * @example
 * const tb = await startGatewayTestServer({ accessToken: 'gw-token' });
 * // point the client at 127.0.0.1:tb.port …
 * await tb.waitFor(() => tb.device('sensor-1')?.telemetry.length === 10);
 * await tb.stop();
 */
export class GatewayTestServer {
  readonly devices = new Map<string, RecordedDevice>();
  readonly refusals: ServerRefusal[] = [];
  /** Accepted gateway PUBLISHes (acknowledged or not). */
  publishes = 0;
  /** Telemetry samples received, repeats included (a sample sent twice counts twice here, once in `telemetry`). */
  samplesReceived = 0;
  /** Successful MQTT connections so far. */
  connections = 0;
  readonly #server: Server;
  readonly #options: Required<Pick<GatewayTestServerOptions, 'accessToken' | 'maxPayloadSize' | 'maxInflightMessages' | 'ackMode'>> & GatewayTestServerOptions;
  readonly #sessions = new Set<Session>();
  readonly #limiters: { messages?: FixedWindowLimiter; telemetryMessages?: FixedWindowLimiter; telemetryDataPoints?: FixedWindowLimiter };
  readonly #rpcWaiters = new Map<string, (data: unknown) => void>();
  #ackMode: AckMode;
  #rpcId = 0;
  #port = 0;

  private constructor(options: GatewayTestServerOptions) {
    this.#options = { maxPayloadSize: 65_536, maxInflightMessages: 100, ackMode: 'normal', ...options };
    this.#ackMode = this.#options.ackMode;
    const r = options.rateLimits ?? {};
    this.#limiters = {
      ...(r.messages ? { messages: new FixedWindowLimiter(r.messages) } : {}),
      ...(r.telemetryMessages ? { telemetryMessages: new FixedWindowLimiter(r.telemetryMessages) } : {}),
      ...(r.telemetryDataPoints ? { telemetryDataPoints: new FixedWindowLimiter(r.telemetryDataPoints) } : {}),
    };
    const t = options.tls;
    this.#server = t
      ? createTlsServer(
          { key: t.key, cert: t.cert, ...(t.ca ? { ca: t.ca } : {}), requestCert: t.requestCert ?? false, rejectUnauthorized: t.requestCert ?? false },
          (socket) => this.#accept(socket),
        )
      : createServer((socket) => this.#accept(socket));
  }

  /** Starts a server; resolves once it listens. */
  static async start(options: GatewayTestServerOptions): Promise<GatewayTestServer> {
    const server = new GatewayTestServer(options);
    await server.listen(options.port ?? 0);
    return server;
  }

  /** The port it listens on. */
  get port(): number {
    return this.#port;
  }

  /** Listens (again, after `stop`) on `port`; 0 takes the previous port, or a free one. */
  listen(port = this.#port): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, this.#options.host ?? '127.0.0.1', () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Closes every connection and stops listening ("ThingsBoard is down"); `listen()` brings it back. */
  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Closes every client connection now, as a server restart or a network failure would. */
  dropConnections(): void {
    for (const session of this.#sessions) session.socket.destroy();
    this.#sessions.clear();
  }

  /** Changes how PUBACKs are sent; leaving `stall` sends the stalled ones. */
  setAckMode(mode: AckMode): void {
    this.#ackMode = mode;
    if (mode !== 'stall') {
      for (const session of this.#sessions) for (const release of session.stalled.splice(0)) release();
    }
  }

  /** The device as recorded, if it sent anything. */
  device(name: string): RecordedDevice | undefined {
    return this.devices.get(name);
  }

  /** All telemetry samples of all devices. */
  allTelemetry(): Array<TbSample & { device: string }> {
    return [...this.devices.values()].flatMap((d) => d.telemetry.map((s) => ({ ...s, device: d.name })));
  }

  /**
   * Sends an RPC to a device through the gateway (`v1/gateway/rpc`) and resolves with the
   * gateway's reply `data`, or rejects after `timeoutMs` (default 10 s).
   */
  rpc(device: string, method: string, params: unknown, timeoutMs = 10_000): Promise<unknown> {
    const id = ++this.#rpcId;
    const body = { device, data: { id, method, params } };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#rpcWaiters.delete(`${device}\u0000${id}`);
        reject(new Error(`no reply to RPC ${id} (${method}) for ${device} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#rpcWaiters.set(`${device}\u0000${id}`, (data) => {
        clearTimeout(timer);
        resolve(data);
      });
      this.#publishToGateway('v1/gateway/rpc', body);
    });
  }

  /**
   * Drops a device's session as ThingsBoard does over a device limit: on MQTT 5 it publishes
   * `{"device", "reason": 150}` on `v1/gateway/disconnect`; the gateway must connect it again.
   */
  dropDevice(device: string): void {
    const d = this.devices.get(device);
    if (d) d.connected = false;
    this.#publishToGateway('v1/gateway/disconnect', { device, reason: 150 });
  }

  /** Sends a shared attribute update (`{"device", "data"}` on `v1/gateway/attributes`). */
  updateAttributes(device: string, data: Record<string, unknown>): void {
    Object.assign(this.#deviceOf(device).shared, data);
    this.#publishToGateway('v1/gateway/attributes', { device, data });
  }

  /** Resolves once `predicate` holds (checked every 20 ms), or rejects after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 20_000, what = 'the condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  #publishToGateway(topic: string, body: unknown): void {
    const payload = Buffer.from(JSON.stringify(body));
    for (const session of this.#sessions) {
      session.socket.write(
        mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain: false } as Packet, { protocolVersion: session.version }),
      );
    }
  }

  #accept(socket: Socket): void {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let session: Session | undefined;
    const send = (packet: Record<string, unknown>) => {
      if (!socket.destroyed) socket.write(mqttPacket.generate(packet as unknown as Packet, { protocolVersion: session?.version ?? 4 }));
    };
    parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'connect') {
        const version = packet.protocolVersion ?? 4;
        if (packet.username !== this.#options.accessToken) {
          // MqttTransportHandler: an unknown token is CONNECTION_REFUSED_NOT_AUTHORIZED (5; 0x87 on MQTT 5).
          this.refusals.push({ reason: 'not authorized', code: version === 5 ? 0x87 : 5 });
          socket.write(
            mqttPacket.generate(
              (version === 5
                ? { cmd: 'connack', reasonCode: 0x87, sessionPresent: false }
                : { cmd: 'connack', returnCode: 5, sessionPresent: false }) as Packet,
              { protocolVersion: version },
            ),
          );
          socket.end();
          return;
        }
        session = { socket, version, stalled: [], nextId: 1 };
        this.#sessions.add(session);
        this.connections += 1;
        send(version === 5 ? { cmd: 'connack', reasonCode: 0, sessionPresent: false } : { cmd: 'connack', returnCode: 0, sessionPresent: false });
        return;
      }
      if (!session) return void socket.destroy();
      if (session.dead) return;
      if (packet.cmd === 'pingreq') return send({ cmd: 'pingresp' });
      if (packet.cmd === 'subscribe') return send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((s) => Math.min(s.qos, 1)) });
      if (packet.cmd === 'unsubscribe') return send({ cmd: 'unsuback', messageId: packet.messageId });
      if (packet.cmd === 'disconnect') return void socket.end();
      if (packet.cmd === 'publish') return this.#onPublish(session, packet, send);
    });
    parser.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      parser.parse(chunk);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (session) this.#sessions.delete(session);
    });
  }

  #onPublish(session: Session, packet: IPublishPacket, send: (p: Record<string, unknown>) => void): void {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const refuse = (reason: string, code: number) => {
      this.refusals.push({ topic: packet.topic, reason, code });
      // MQTT 3: the transport closes the channel; MQTT 5 first answers with the reason code.
      if (session.version === 5 && packet.qos > 0) send({ cmd: 'puback', messageId: packet.messageId, reasonCode: code });
      session.dead = true;
      session.socket.end();
      this.#sessions.delete(session);
    };
    if (payload.length > this.#options.maxPayloadSize) {
      refuse(`payload of ${payload.length} bytes is larger than ${this.#options.maxPayloadSize}`, 0x95);
      return;
    }
    const rpcRequest = RPC_REQUEST.exec(packet.topic);
    if (rpcRequest) {
      this.#onDeviceRpc(session, rpcRequest[1]!, payload, packet, send);
      return;
    }
    let points = 0;
    try {
      const now = Date.now();
      switch (packet.topic) {
        case 'v1/gateway/connect': {
          const { device, type } = parseConnect(payload);
          this.#countMessage(false, 0);
          const d = this.#deviceOf(device, type);
          d.connected = true;
          d.connects += 1;
          break;
        }
        case 'v1/gateway/disconnect': {
          const { device } = parseConnect(payload);
          const d = this.devices.get(device);
          if (d) d.connected = false;
          this.#countMessage(false, 0);
          break;
        }
        case 'v1/gateway/telemetry': {
          const parsed = parseGatewayTelemetry(payload, now);
          for (const samples of parsed.values()) for (const s of samples) points += Object.keys(s.values).length;
          this.#countMessage(true, points);
          for (const [device, samples] of parsed) this.#store(this.#deviceOf(device), samples);
          break;
        }
        case 'v1/gateway/attributes': {
          const parsed = parseGatewayAttributes(payload);
          this.#countMessage(false, 0);
          for (const [device, values] of parsed) Object.assign(this.#deviceOf(device).attributes, values);
          break;
        }
        case 'v1/gateway/rpc': {
          const reply = parseRpcReply(payload);
          this.#countMessage(false, 0);
          const key = `${reply.device}\u0000${reply.id}`;
          this.#rpcWaiters.get(key)?.(reply.data);
          this.#rpcWaiters.delete(key);
          break;
        }
        case 'v1/gateway/attributes/request': {
          const request = parseAttributeRequest(payload);
          this.#countMessage(false, 0);
          const d = this.devices.get(request.device);
          const source: Record<string, unknown> = (request.client ? d?.attributes : d?.shared) ?? {};
          const found = request.keys.filter((k) => k in source);
          // JsonConverter.getJsonObjectForGateway: one key as "value", several as "values".
          const body =
            found.length === 1 && request.keys.length === 1
              ? { id: request.id, device: request.device, value: source[found[0]!] }
              : { id: request.id, device: request.device, values: Object.fromEntries(found.map((k) => [k, source[k]])) };
          setImmediate(() =>
            send({ cmd: 'publish', topic: 'v1/gateway/attributes/response', payload: Buffer.from(JSON.stringify(body)), qos: 0, dup: false, retain: false }),
          );
          break;
        }
        default:
          parseJsonObject(payload);
      }
    } catch (error) {
      if (error instanceof QuotaExceeded) refuse(error.message, 0x97);
      else if (isGatewayPayloadError(error)) refuse(error.message, 0x99);
      else throw error;
      return;
    }
    this.publishes += 1;
    if (packet.qos === 0) return;
    const ack = () => send({ cmd: 'puback', messageId: packet.messageId, ...(session.version === 5 ? { reasonCode: 0 } : {}) });
    if (this.#ackMode === 'normal') ack();
    else if (this.#ackMode === 'stall') session.stalled.push(ack);
  }

  /** Checks the rate limits first, so a refused message records nothing. */
  #countMessage(telemetry: boolean, points: number): void {
    const l = this.#limiters;
    const over =
      l.messages && !l.messages.fits(1)
        ? 'messages'
        : telemetry && l.telemetryMessages && !l.telemetryMessages.fits(1)
          ? 'telemetry messages'
          : telemetry && l.telemetryDataPoints && !l.telemetryDataPoints.fits(points)
            ? 'telemetry data points'
            : undefined;
    if (over) throw new QuotaExceeded(`gateway rate limit of ${over} exceeded`);
    l.messages?.take(1);
    if (telemetry) {
      l.telemetryMessages?.take(1);
      l.telemetryDataPoints?.take(points);
    }
  }

  #store(d: RecordedDevice & { byTs?: Map<number, TbSample> }, samples: TbSample[]): void {
    d.byTs ??= new Map();
    for (const s of samples) {
      this.samplesReceived += 1;
      const existing = d.byTs.get(s.ts);
      if (existing) {
        Object.assign(existing.values, s.values);
      } else {
        const copy = { ts: s.ts, values: { ...s.values } };
        d.byTs.set(s.ts, copy);
        d.telemetry.push(copy);
      }
    }
  }

  #deviceOf(name: string, type = 'default'): RecordedDevice {
    let d = this.devices.get(name);
    if (!d) {
      d = { name, type, connected: false, connects: 0, telemetry: [], attributes: {}, shared: {} };
      this.devices.set(name, d);
    }
    return d;
  }

  /** `getSessionLimits`, as `MqttTransportHandler` answers it on `v1/devices/me/rpc/response/{n}`. */
  #onDeviceRpc(session: Session, n: string, payload: Buffer, packet: IPublishPacket, send: (p: Record<string, unknown>) => void): void {
    let method: unknown;
    try {
      method = parseJsonObject(payload).method;
    } catch {
      method = undefined;
    }
    if (packet.qos > 0) send({ cmd: 'puback', messageId: packet.messageId, ...(session.version === 5 ? { reasonCode: 0 } : {}) });
    if (method !== 'getSessionLimits') return;
    const r = this.#options.rateLimits ?? {};
    const limits = {
      messages: formatRateLimits(r.messages),
      telemetryMessages: formatRateLimits(r.telemetryMessages),
      telemetryDataPoints: formatRateLimits(r.telemetryDataPoints),
    };
    const body = {
      maxPayloadSize: this.#options.maxPayloadSize,
      maxInflightMessages: this.#options.maxInflightMessages,
      rateLimits: { messages: '', telemetryMessages: '', telemetryDataPoints: '' },
      gatewayRateLimits: this.#options.reportRateLimits === false ? { messages: '', telemetryMessages: '', telemetryDataPoints: '' } : limits,
    };
    send({ cmd: 'publish', topic: `v1/devices/me/rpc/response/${n}`, payload: Buffer.from(JSON.stringify(body)), qos: 0, dup: false, retain: false });
  }
}

class QuotaExceeded extends Error {}

/** Starts a gateway-API test server (see `GatewayTestServer`). */
export function startGatewayTestServer(options: GatewayTestServerOptions): Promise<GatewayTestServer> {
  return GatewayTestServer.start(options);
}
