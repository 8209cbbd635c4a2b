import { randomUUID } from 'node:crypto';
import {
  Backoff,
  DeliveryError,
  ShutdownError,
  type Clock,
  type Counter,
  type Gauge,
  type IngestItem,
  type Logger,
  type PlatformClient,
  type PlatformCommand,
} from '@tbi/plugin-api';
import { Forwarder } from './forwarder.js';
import { Outbox, type OutboxKind } from './outbox.js';
import type { ThingsBoardPlatformOptions } from './options.js';

type CommandHandler = (command: PlatformCommand) => void;

const silent: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

const RPC_MEMORY_MS = 3_600_000;

/**
 * The platform client for a real ThingsBoard over its Gateway MQTT API. `ingest` commits records
 * to the durable outbox (or, in strict mode, waits for ThingsBoard's PUBACK); the forwarder
 * sends them on. RPCs and shared attribute updates from ThingsBoard become platform commands.
 * Made with `openThingsBoardPlatform`.
 */
export class ThingsBoardPlatform implements PlatformClient {
  readonly outbox: Outbox;
  readonly #forwarder: Forwarder;
  readonly #handlers = new Set<CommandHandler>();
  /** RPCs waiting for a device's reply, by command id; forgotten after `RPC_MEMORY_MS`. */
  readonly #rpcs = new Map<string, { device: string; id: number; at: number }>();
  readonly #replyWaiters = new Map<number, (body: unknown) => void>();
  readonly #attributeWaiters = new Map<number, (body: Record<string, unknown>) => void>();
  #attributeRequestId = 0;
  readonly #strictWaiters = new Set<{ left: Set<number>; resolve: () => void; reject: (e: Error) => void }>();
  readonly #o: ThingsBoardPlatformOptions;
  readonly #logger: Logger;
  readonly #clock: Clock;
  #state: { connected: boolean; error?: string } = { connected: false };
  readonly #metrics: { waiting: Gauge; connected: Gauge; acked: Counter } | undefined;
  #closed = false;

  /** @internal Use `openThingsBoardPlatform`. */
  constructor(options: ThingsBoardPlatformOptions) {
    this.#o = options;
    this.#logger = (options.logger ?? silent).child({ component: 'platform-thingsboard' });
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.outbox = new Outbox(options.dataDir);
    // The outbox hides an outage from the pipeline (sources keep being acknowledged): these show it.
    const m = options.metrics;
    this.#metrics = m && {
      waiting: m.gauge('tbi_thingsboard_outbox_records', 'Records waiting in the ThingsBoard outbox.'),
      connected: m.gauge('tbi_thingsboard_connected', '1 while a gateway session to ThingsBoard is up.'),
      acked: m.counter('tbi_thingsboard_acked_records_total', 'Outbox rows acknowledged by ThingsBoard (PUBACK) and removed.'),
    };
    this.#metrics?.waiting.set({}, this.outbox.size);
    this.outbox.pruneSourceIds(this.#clock.now() - 7 * 86_400_000);
    const tls = options.tls;
    this.#forwarder = new Forwarder({
      outbox: this.outbox,
      settings: {
        host: options.host,
        port: options.port ?? (tls ? 8883 : 1883),
        accessToken: options.accessToken,
        protocolVersion: options.protocolVersion ?? 4,
        clientId: options.clientId ?? `tbi-gateway-${randomUUID().slice(0, 8)}`,
        connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
        keepaliveSeconds: 60,
        ...(tls ? { tls: { ...tls, rejectUnauthorized: tls.rejectUnauthorized ?? true } } : {}),
      },
      logger: this.#logger,
      backoff: new Backoff({ initialDelayMs: options.reconnect?.initialDelayMs ?? 500, maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000 }),
      rateLimitFraction: options.rateLimitFraction ?? 0.8,
      deviceIdleMs: options.deviceIdleMs ?? 3_600_000,
      now: () => this.#clock.now(),
      onMessage: (topic, payload) => this.#onMessage(topic, payload),
      waitReply: (n, timeoutMs) => this.#waitReply(n, timeoutMs),
      onRemoved: (seqs, refused) => {
        if (!refused) this.#metrics?.acked.inc({}, seqs.length);
        this.#metrics?.waiting.set({}, this.outbox.size);
        this.#removed(seqs);
      },
      onState: (state) => {
        this.#state = state;
        this.#metrics?.connected.set({}, state.connected ? 1 : 0);
      },
    });
  }

  /** Whether a session to ThingsBoard is up, and the last error. */
  get state(): { connected: boolean; error?: string; waiting: number } {
    return { ...this.#state, connected: this.#forwarder.connected, waiting: this.outbox.size };
  }

  /** `down` while no gateway session to ThingsBoard is up (the outbox keeps `ingest` resolving). */
  health(): { status: 'up' | 'down'; detail?: string } {
    if (this.#forwarder.connected) return { status: 'up' };
    return { status: 'down', detail: `ThingsBoard is unreachable (${this.#state.error ?? 'connecting'}); ${this.outbox.size} records wait in the outbox` };
  }

  /** @internal Connects the first time (a refused token throws). */
  async start(): Promise<void> {
    try {
      await this.#forwarder.start();
    } catch (error) {
      this.outbox.close();
      this.#closed = true;
      throw error;
    }
  }

  /**
   * Commits the records to the outbox in one transaction (a repeated `sourceId` of the same
   * integration is skipped there) and resolves; in strict mode only once ThingsBoard
   * acknowledged every row. A full outbox rejects with a retryable `DeliveryError`, which makes
   * the pipeline back off and stop consuming: nothing is dropped.
   */
  async ingest(items: readonly IngestItem[]): Promise<{ stored: number; duplicates: number }> {
    if (this.#closed) throw new ShutdownError('the ThingsBoard platform client is closed');
    if (items.length === 0) return { stored: 0, duplicates: 0 };
    this.#checkRoom();
    const replies: Array<{ device: string; kind: OutboxKind; body: string }> = [];
    for (const item of items) {
      for (const record of item.records) {
        for (const reply of record.rpcReplies ?? []) {
          const rpc = this.#rpcs.get(reply.requestId);
          if (!rpc) continue;
          this.#rpcs.delete(reply.requestId);
          replies.push({ device: rpc.device, kind: 'rpc', body: JSON.stringify({ id: rpc.id, data: reply.response ?? null }) });
        }
      }
    }
    const result = this.outbox.append(items, this.#clock.now(), replies);
    this.#metrics?.waiting.set({}, this.outbox.size);
    this.#forwarder.notify();
    if (this.#o.delivery === 'strict' && result.seqs.length > 0) {
      await new Promise<void>((resolve, reject) => this.#strictWaiters.add({ left: new Set(result.seqs), resolve, reject }));
    }
    return { stored: result.stored, duplicates: result.duplicates };
  }

  onCommand(handler: CommandHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** A failed RPC delivery is answered to ThingsBoard with the error, so its caller does not wait for the timeout. */
  commandResult(commandId: string, result: { ok: true } | { ok: false; error: string }): void {
    const rpc = this.#rpcs.get(commandId);
    if (!rpc || result.ok || this.#closed) return;
    this.#rpcs.delete(commandId);
    this.outbox.append([], this.#clock.now(), [{ device: rpc.device, kind: 'rpc', body: JSON.stringify({ id: rpc.id, data: { error: result.error } }) }]);
    this.#forwarder.notify();
  }

  /**
   * Asks ThingsBoard for a device's attributes (`v1/gateway/attributes/request`): client scope, or
   * shared (default). Resolves with the keys ThingsBoard has; rejects when it is not connected or
   * does not answer within `timeoutMs`.
   *
   * @example
   * const { targetTemp } = await platform.requestAttributes('valve-1', ['targetTemp']);
   */
  async requestAttributes(device: string, keys: readonly string[], options: { client?: boolean; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    const id = ++this.#attributeRequestId;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#attributeWaiters.delete(id);
        reject(new DeliveryError(`ThingsBoard did not answer the attribute request for ${device}`, { retryable: true }));
      }, options.timeoutMs ?? 10_000);
      this.#attributeWaiters.set(id, (body) => {
        clearTimeout(timer);
        resolve(body);
      });
    });
    const request = { id, device, client: options.client ?? false, ...(keys.length === 1 ? { key: keys[0] } : { keys }) };
    try {
      await this.#forwarder.publishNow('v1/gateway/attributes/request', Buffer.from(JSON.stringify(request)));
    } catch (error) {
      this.#attributeWaiters.get(id)?.({});
      this.#attributeWaiters.delete(id);
      throw error;
    }
    const body = await answer;
    if ('value' in body && keys.length === 1) return { [keys[0]!]: body.value };
    return (typeof body.values === 'object' && body.values !== null ? body.values : {}) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#forwarder.close();
    // Strict mode: what was not acknowledged stays in the outbox but its source must redeliver.
    for (const w of this.#strictWaiters) w.reject(new ShutdownError('the ThingsBoard platform client closed before the PUBACK'));
    this.#strictWaiters.clear();
    this.#handlers.clear();
    this.outbox.close();
  }

  #checkRoom(): void {
    const max = this.#o.outboxMaxRecords ?? 1_000_000;
    if (this.outbox.size >= max) {
      throw new DeliveryError(`the ThingsBoard outbox is full (${this.outbox.size} records waiting, limit ${max}); ${this.#why()}`, { retryable: true });
    }
    const maxAge = this.#o.outboxMaxAgeMs ?? 7 * 86_400_000;
    const oldest = this.outbox.oldest();
    if (oldest !== undefined && this.#clock.now() - oldest > maxAge) {
      throw new DeliveryError(`the oldest record in the ThingsBoard outbox is older than ${maxAge} ms; ${this.#why()}`, { retryable: true });
    }
  }

  #why(): string {
    return this.#forwarder.connected ? 'ThingsBoard is slower than the sources' : `ThingsBoard is not connected (${this.#state.error ?? 'connecting'})`;
  }

  #removed(seqs: readonly number[]): void {
    if (this.#strictWaiters.size === 0) return;
    for (const w of this.#strictWaiters) {
      for (const seq of seqs) w.left.delete(seq);
      if (w.left.size === 0) {
        this.#strictWaiters.delete(w);
        w.resolve();
      }
    }
  }

  /** ThingsBoard times RPCs out itself (default 10 s, at most minutes); a reply after an hour has no caller. */
  #forgetOldRpcs(): void {
    const before = this.#clock.now() - RPC_MEMORY_MS;
    for (const [id, rpc] of this.#rpcs) {
      if (rpc.at >= before) break; // insertion order is time order
      this.#rpcs.delete(id);
    }
  }

  #waitReply(n: number, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#replyWaiters.delete(n);
        reject(new Error(`no reply to device RPC ${n}`));
      }, timeoutMs);
      this.#replyWaiters.set(n, (body) => {
        clearTimeout(timer);
        resolve(body);
      });
    });
  }

  #onMessage(topic: string, payload: Buffer): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      this.#logger.warn({ topic }, 'ThingsBoard sent a message that is not JSON; ignored');
      return;
    }
    const response = /^v1\/devices\/me\/rpc\/response\/(\d+)$/.exec(topic);
    if (response) {
      const n = Number(response[1]);
      this.#replyWaiters.get(n)?.(body);
      this.#replyWaiters.delete(n);
      return;
    }
    if (topic === 'v1/gateway/attributes/response') {
      const id = Number(body.id);
      this.#attributeWaiters.get(id)?.(body);
      this.#attributeWaiters.delete(id);
      return;
    }
    const deviceName = typeof body.device === 'string' ? body.device : undefined;
    if (!deviceName) return;
    if (topic === 'v1/gateway/disconnect') {
      this.#logger.info({ deviceName, reason: body.reason }, 'ThingsBoard dropped a device session; it is connected again with its next data');
      this.#forwarder.forgetDevice(deviceName);
      return;
    }
    const known = this.outbox.device(deviceName);
    const base = { deviceName, deviceType: known?.type ?? 'default' };
    const id = randomUUID();
    let command: PlatformCommand;
    if (topic === 'v1/gateway/rpc') {
      const data = (body.data ?? {}) as { id?: unknown; method?: unknown; params?: unknown };
      const rpcId = Number(data.id);
      this.#forgetOldRpcs();
      this.#rpcs.set(id, { device: deviceName, id: rpcId, at: this.#clock.now() });
      command = {
        id,
        deviceName,
        msgType: 'RPC_CALL_FROM_SERVER_TO_DEVICE',
        msg: { method: data.method, params: data.params ?? {} },
        metadata: { ...base, requestUUID: id, requestId: String(rpcId), oneway: 'false' },
      };
    } else if (topic === 'v1/gateway/attributes') {
      command = { id, deviceName, msgType: 'ATTRIBUTES_UPDATED', msg: body.data ?? {}, metadata: { ...base, scope: 'SHARED_SCOPE' } };
    } else {
      return;
    }
    if (known?.integration) command.integration = known.integration;
    for (const handler of this.#handlers) {
      try {
        handler(command);
      } catch (error) {
        this.#logger.error({ err: error, commandId: id }, 'a command handler threw');
      }
    }
  }
}
