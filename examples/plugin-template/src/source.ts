import net from 'node:net';
import { isShutdownError, type IntegrationContext, type RawMessage } from '@tbi/plugin-api';
import type { TcpLineConfig } from './config.js';

/** Which connection last carried each device, for downlinks. */
export type DeviceSockets = Map<string, net.Socket>;

/**
 * The uplink: a TCP server; every line a client sends is one message. A line is answered `ok`
 * only after `uplink.submit` resolved it as stored (the at-least-once contract), `error <kind>`
 * when it was dead-lettered, and `retry` when the host stopped first (nothing acknowledged: the
 * client sends it again). While paused (back-pressure) lines wait unread in the socket.
 */
export class LineSource {
  readonly server = net.createServer((socket) => this.#accept(socket));
  readonly #sockets = new Set<net.Socket>();
  readonly #pending = new Map<net.Socket, string[]>();
  #paused = false;

  constructor(
    private readonly ctx: IntegrationContext<TcpLineConfig>,
    private readonly devices: DeviceSockets,
  ) {}

  /** Resolves with the port once listening. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.ctx.config.port, this.ctx.config.host, () => resolve((this.server.address() as net.AddressInfo).port));
    });
  }

  pause(): void {
    this.#paused = true;
    for (const socket of this.#sockets) socket.pause();
  }

  resume(): void {
    this.#paused = false;
    for (const socket of this.#sockets) {
      this.#drain(socket);
      socket.resume();
    }
  }

  /** Stops accepting, ends every connection; lines in flight are answered `retry` by `submit`'s rejection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.#sockets) socket.end();
    setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, 1000).unref();
    await closed;
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    this.#pending.set(socket, []);
    if (this.#paused) socket.pause();
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      this.#pending.get(socket)!.push(...lines.filter((l) => l.trim() !== ''));
      this.#drain(socket);
    });
    socket.on('error', (err) => this.ctx.logger.debug({ err: err.message }, 'connection error'));
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#pending.delete(socket);
      for (const [device, s] of this.devices) if (s === socket) this.devices.delete(device);
    });
  }

  /** Hands waiting lines of one connection to the pipeline, unless paused. */
  #drain(socket: net.Socket): void {
    const lines = this.#pending.get(socket);
    while (lines && lines.length > 0 && !this.#paused) this.#submit(socket, lines.shift()!);
  }

  #submit(socket: net.Socket, line: string): void {
    const reply = (text: string) => {
      if (this.ctx.config.replies && socket.writable) socket.write(`${text}\n`);
    };
    const message: RawMessage = {
      payload: Buffer.from(line, 'utf8'),
      metadata: { remoteAddress: socket.remoteAddress ?? '', remotePort: String(socket.remotePort ?? '') },
      receivedAt: this.ctx.clock.now(),
    };
    if (message.payload.length > this.ctx.config.maxLineBytes) {
      void this.ctx.uplink.reject([message], `line longer than ${this.ctx.config.maxLineBytes} bytes`).then(
        () => reply('error TOO_LONG'),
        () => reply('retry'),
      );
      return;
    }
    this.ctx.uplink.submit([message]).then(
      ([outcome]) => {
        if (outcome?.status !== 'stored') return reply(`error ${outcome?.error.kind ?? 'UNKNOWN'}`);
        for (const record of outcome.records) this.devices.set(record.deviceName, socket);
        reply('ok');
      },
      (error: unknown) => {
        if (!isShutdownError(error)) this.ctx.logger.error({ err: error }, 'submit failed');
        reply('retry');
      },
    );
  }
}
