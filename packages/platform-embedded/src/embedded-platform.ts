import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { ShutdownError, type Clock, type IngestItem, type Logger, type PlatformClient, type PlatformCommand, type RpcReply } from '@tbi/plugin-api';
import { AttributeStore, checkAttributeValues, parseScope } from './attribute-store.js';
import { CommandStore } from './command-store.js';
import { checkInteger, DeviceQueries } from './device-queries.js';
import { invalidArgument, PlatformError } from './errors.js';
import { RecordLog } from './record-log.js';
import { RpcWaiters } from './rpc-waiters.js';
import { TelemetryQueries } from './telemetry-queries.js';
import { inTransaction } from './transaction.js';
import type { WriteGate } from './write-gate.js';
import type { WriterClient } from './writer-client.js';
import type {
  AggregatedPoint,
  Attribute,
  AttributeScope,
  CommandRecord,
  CommandStatus,
  Device,
  DevicePage,
  EmbeddedPlatformOptions,
  ListDevicesQuery,
  RetentionResult,
  RpcRequest,
  RpcResult,
  TelemetryPoint,
  TelemetryQuery,
} from './types.js';

const COMMAND_STATUSES: readonly CommandStatus[] = ['queued', 'delivered', 'failed', 'replied', 'expired'];

type CommandHandler = (command: PlatformCommand) => void;

/**
 * The embedded IoT platform: devices, telemetry, attributes and commands in one SQLite database.
 * Made with `openEmbeddedPlatform`; implements the `PlatformClient` the host's pipeline stores
 * through, plus the reads and commands behind the REST API (`createPlatformRoutes`).
 */
export class EmbeddedPlatform implements PlatformClient {
  private readonly handlers = new Set<CommandHandler>();
  private readonly waiters = new RpcWaiters();
  private readonly devices: DeviceQueries;
  private readonly telemetryReads: TelemetryQueries;
  private readonly attributes: AttributeStore;
  private readonly commands: CommandStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly rpcTimeout: { default: number; max: number };
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionRun: Promise<RetentionResult> | undefined;
  private closing = false;
  private closed = false;
  /** The log of stored records, when the platform was opened with readers (`recordLog`). */
  readonly log: RecordLog | undefined;

  /**
   * @internal Use `openEmbeddedPlatform`. `db` is the main thread's connection: reads, and the
   * small writes of commands and attributes; `writer` is the thread that ingests and runs retention.
   */
  constructor(
    private readonly db: DatabaseSync,
    /** Path of the database file. */
    readonly file: string,
    options: EmbeddedPlatformOptions,
    private readonly writer: WriterClient,
    /** Held around this thread's writes so the writer thread lets them in between its transactions. */
    private readonly gate: WriteGate,
    logger: Logger,
  ) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.logger = logger;
    this.rpcTimeout = { default: options.rpcTimeoutMs?.default ?? 10_000, max: options.rpcTimeoutMs?.max ?? 600_000 };
    this.devices = new DeviceQueries(db);
    this.telemetryReads = new TelemetryQueries(db);
    this.attributes = new AttributeStore(db);
    this.commands = new CommandStore(db);
    if ((options.recordLog?.readers.length ?? 0) > 0) this.log = new RecordLog(db, gate, this.clock, options.recordLog!);
    const interval = options.retentionIntervalMs ?? 3_600_000;
    this.retentionTimer = setInterval(() => void this.runRetention().catch(() => {}), interval);
    // Retention alone must not keep the process alive.
    this.retentionTimer.unref();
  }

  // ---- PlatformClient -------------------------------------------------------------------------

  /**
   * Stores the items in one transaction and resolves after the COMMIT (fsynced: durable). The
   * transaction runs on the writer thread, so the event loop stays free while SQLite writes.
   * Items whose `(integration, sourceId)` was stored before are skipped and counted as
   * duplicates. Rejects with a `DeliveryError`: retryable when the store failed (locked, I/O,
   * disk full), not retryable when the data is invalid; nothing of the call is stored then.
   */
  ingest(items: readonly IngestItem[]): Promise<{ stored: number; duplicates: number }> {
    if (this.closing) return Promise.reject(new ShutdownError('the embedded platform is closed'));
    if (Array.isArray(items) && items.length === 0) return Promise.resolve({ stored: 0, duplicates: 0 });
    return this.writer.request('ingest', { items, now: this.clock.now() }).then(({ stored, duplicates, replies }) => {
      if (replies.length > 0) this.replied(replies);
      if (stored > 0) this.log?.stored();
      return { stored, duplicates };
    });
  }

  /**
   * Subscribes to commands (RPC calls, shared attribute updates). Commands still queued from
   * before (e.g. a restart) and not expired are handed to the new handler right after.
   */
  onCommand(handler: CommandHandler): () => void {
    this.assertOpen();
    // The backlog is read now, so a command created after subscribing is emitted once, not also
    // replayed; it is handed over on the next turn, after the caller has the unsubscribe function.
    const backlog = this.commands.queued(this.clock.now());
    this.handlers.add(handler);
    if (backlog.length > 0) {
      setImmediate(() => {
        if (this.closed || !this.handlers.has(handler)) return;
        for (const record of backlog) this.emitTo(handler, record);
      });
    }
    return () => this.handlers.delete(handler);
  }

  /** Records how delivering a command ended; a failed two-way RPC rejects its caller at once. */
  commandResult(commandId: string, result: { ok: true } | { ok: false; error: string }): void {
    if (this.closed) return;
    try {
      const now = this.clock.now();
      if (result.ok) {
        this.gate.run(() => this.commands.markDelivered(commandId, now));
      } else if (this.gate.run(() => this.commands.markFailed(commandId, result.error, now))) {
        this.waiters.fail(
          commandId,
          new PlatformError('RPC_DELIVERY_FAILED', `RPC ${commandId} could not be delivered: ${result.error}`, {
            context: { requestId: commandId },
          }),
        );
      }
    } catch (error) {
      this.logger.error({ err: error, commandId }, 'embedded platform: could not record a command result');
    }
  }

  // ---- reads ----------------------------------------------------------------------------------

  listDevices(query: ListDevicesQuery = {}): DevicePage {
    this.assertOpen();
    return this.devices.list(query);
  }

  /** The device or asset; `undefined` if there is none with that name. */
  getDevice(name: string): Device | undefined {
    this.assertOpen();
    return this.devices.find(name)?.device;
  }

  /** The newest value of each telemetry key of the device (or of `keys` only). */
  latestTelemetry(name: string, keys?: readonly string[]): Record<string, TelemetryPoint> {
    this.assertOpen();
    return this.telemetryReads.latest(this.devices.require(name).id, keys);
  }

  /** Values of one key in `[from, to)`, raw or aggregated per interval. */
  telemetry(name: string, key: string, query: TelemetryQuery): (TelemetryPoint | AggregatedPoint)[] {
    this.assertOpen();
    return this.telemetryReads.series(this.devices.require(name).id, key, query);
  }

  getAttributes(name: string, scope: AttributeScope, keys?: readonly string[]): Attribute[] {
    this.assertOpen();
    return this.attributes.get(this.devices.require(name).id, parseScope(scope), keys);
  }

  /** The device's commands, newest first. */
  listCommands(name: string, query: { limit?: number; status?: CommandStatus } = {}): CommandRecord[] {
    this.assertOpen();
    const limit = checkInteger('limit', query.limit, 1, 1000, 100);
    if (query.status !== undefined && !COMMAND_STATUSES.includes(query.status)) {
      throw invalidArgument(`status must be one of ${COMMAND_STATUSES.join(', ')}`, { status: query.status });
    }
    return this.commands.list(this.devices.require(name).id, limit, query.status);
  }

  getCommand(id: string): CommandRecord | undefined {
    this.assertOpen();
    return this.commands.get(id);
  }

  // ---- commands -------------------------------------------------------------------------------

  /**
   * Writes server or shared attributes (client attributes come from the device). Writing shared
   * attributes emits an `ATTRIBUTES_UPDATED` command with the written key/values, as
   * ThingsBoard's rule engine sends it to a downlink converter.
   */
  async setAttributes(name: string, scope: AttributeScope, values: Record<string, unknown>): Promise<{ updated: number; commandId?: string }> {
    this.assertOpen();
    const parsed = parseScope(scope);
    if (parsed === 'client') throw invalidArgument('client attributes are reported by the device; write shared or server attributes', { scope });
    const written = checkAttributeValues(values);
    const { id: deviceId, device } = this.devices.require(name);
    const now = this.clock.now();
    const commandId = parsed === 'shared' ? randomUUID() : undefined;
    this.write('set attributes', () => {
      this.attributes.set(deviceId, parsed, written, now);
      if (commandId !== undefined) {
        this.commands.insert(
          {
            id: commandId,
            deviceId,
            msgType: 'ATTRIBUTES_UPDATED',
            msg: written,
            oneway: true,
            expiresAt: null,
            metadata: { deviceName: device.name, deviceType: device.type, scope: 'SHARED_SCOPE' },
          },
          now,
        );
      }
    });
    if (commandId !== undefined) this.emit(commandId);
    return { updated: Object.keys(written).length, ...(commandId === undefined ? {} : { commandId }) };
  }

  /**
   * Sends an RPC to the device (`RPC_CALL_FROM_SERVER_TO_DEVICE`, msg `{method, params}`).
   * One-way resolves once the command is stored and handed to the host; two-way resolves with
   * the device's reply (an ingested record's `rpcReplies` entry with this `requestId`), or
   * rejects with `RPC_TIMEOUT` after `timeoutMs`, or `RPC_DELIVERY_FAILED`.
   */
  async sendRpc(name: string, request: RpcRequest): Promise<RpcResult> {
    this.assertOpen();
    if (typeof request !== 'object' || request === null || typeof request.method !== 'string' || request.method === '') {
      throw invalidArgument('method must be a non-empty string');
    }
    if (request.oneway !== undefined && typeof request.oneway !== 'boolean') throw invalidArgument('oneway must be a boolean');
    const timeoutMs = checkInteger('timeoutMs', request.timeoutMs, 1, this.rpcTimeout.max, this.rpcTimeout.default);
    const oneway = request.oneway ?? false;
    const { id: deviceId, device } = this.devices.require(name);
    const now = this.clock.now();
    const id = randomUUID();
    const expiresAt = now + timeoutMs;
    this.write('send rpc', () => {
      this.commands.insert(
        {
          id,
          deviceId,
          msgType: 'RPC_CALL_FROM_SERVER_TO_DEVICE',
          msg: { method: request.method, params: request.params ?? {} },
          oneway,
          expiresAt,
          metadata: {
            deviceName: device.name,
            deviceType: device.type,
            requestUUID: id,
            expirationTime: String(expiresAt),
            oneway: String(oneway),
          },
        },
        now,
      );
    });
    const reply = oneway ? undefined : this.waiters.wait(id, timeoutMs, () => this.expire(id));
    this.emit(id);
    if (reply === undefined) return { requestId: id };
    return { requestId: id, response: await reply };
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Deletes expired telemetry, old source positions and finished commands now (it also runs on
   * the retention interval). Resolves with what was deleted.
   */
  runRetention(): Promise<RetentionResult> {
    if (this.closing) return Promise.reject(new ShutdownError('the embedded platform is closed'));
    this.retentionRun ??= this.writer
      .request('retention', { now: this.clock.now() })
      .then(
        (result) => {
          this.logger.info({ deleted: result }, 'embedded platform: retention done');
          return result;
        },
        (error: unknown) => {
          this.logger.warn({ err: error }, 'embedded platform: retention failed, will try again next interval');
          throw error;
        },
      )
      .finally(() => {
        this.retentionRun = undefined;
      });
    return this.retentionRun;
  }

  /** Writes what is queued, stops retention, rejects waiting RPCs and closes the database. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.retentionTimer);
    // The writer commits the ingest calls it has received (they were sent before this request),
    // stops retention after its current chunk, and closes its connection.
    try {
      await this.writer.request('close', {});
    } catch (error) {
      this.logger.warn({ err: error }, 'embedded platform: the writer thread did not close cleanly');
    }
    await this.writer.terminate();
    await this.retentionRun?.catch(() => {});
    this.closed = true;
    this.handlers.clear();
    this.waiters.failAll(new ShutdownError('the embedded platform closed before the device replied'));
    this.db.close();
  }

  /** A write transaction on this thread's connection (the writer thread waits meanwhile). */
  private write<T>(operation: string, fn: () => T): T {
    return this.gate.run(() => inTransaction(this.db, operation, fn));
  }

  private assertOpen(): void {
    if (this.closed) throw new ShutdownError('the embedded platform is closed');
  }

  private replied(replies: RpcReply[]): void {
    for (const reply of replies) this.waiters.reply(reply.requestId, reply.response);
  }

  private expire(id: string): void {
    if (this.closed) return;
    try {
      this.write('expire rpc', () => this.commands.markExpired(id, this.clock.now()));
    } catch (error) {
      this.logger.warn({ err: error, commandId: id }, 'embedded platform: could not mark an RPC expired');
    }
  }

  private emit(id: string): void {
    const record = this.commands.get(id);
    if (record === undefined) return;
    if (this.handlers.size === 0) {
      this.logger.warn({ commandId: id, deviceName: record.deviceName }, 'embedded platform: no command handler; the command stays queued');
    }
    for (const handler of this.handlers) this.emitTo(handler, record);
  }

  private emitTo(handler: CommandHandler, record: CommandRecord): void {
    const integration = this.devices.find(record.deviceName)?.device.integration ?? undefined;
    const command: PlatformCommand = {
      id: record.id,
      deviceName: record.deviceName,
      msgType: record.msgType,
      msg: record.msg,
      metadata: record.metadata,
      ...(integration === undefined ? {} : { integration }),
    };
    try {
      handler(command);
    } catch (error) {
      this.logger.error({ err: error, commandId: record.id }, 'embedded platform: command handler threw');
    }
  }
}
