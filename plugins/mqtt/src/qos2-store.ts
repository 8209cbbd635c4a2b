import { readdirSync, rmSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { IPublishPacket, IStore } from 'mqtt';
import type { Packet } from 'mqtt-packet';

type Callback = (error?: Error, packet?: Packet) => void;

/**
 * The `mqtt` client's store of incoming QoS 2 messages, on disk. The client writes a QoS 2
 * PUBLISH here before it answers PUBREC, and from then on the broker sends only PUBREL, never the
 * message again. With the client's default in-memory store a crash in between lost the message.
 * Here it survives: after a restart the broker's PUBREL finds it, and the message goes through the
 * pipeline as usual (PUBCOMP after storage). One file per packet id, synced before PUBREC.
 */
export class DurableIncomingStore implements IStore {
  readonly #dir: string;
  #ready: Promise<unknown> | undefined;

  constructor(
    dir: string,
    private readonly onError: (error: Error) => void,
  ) {
    this.#dir = dir;
  }

  put(packet: Packet, cb: (error?: Error) => void): this {
    const p = packet as IPublishPacket;
    const record = {
      topic: p.topic,
      payload: Buffer.from(p.payload as Buffer).toString('base64'),
      qos: p.qos,
      retain: p.retain,
      messageId: p.messageId,
      properties: p.properties === undefined ? undefined : { ...p.properties, correlationData: p.properties.correlationData?.toString('base64') },
    };
    this.#run(
      async () => {
        await this.#mkdir();
        const handle = await open(this.#file(p.messageId), 'w');
        try {
          await handle.writeFile(JSON.stringify(record));
          await handle.datasync();
        } finally {
          await handle.close();
        }
      },
      (error) => {
        // The client sends PUBREC whatever the callback says; all that is left is to tell someone.
        if (error) this.onError(error);
        cb(error);
      },
    );
    return this;
  }

  get(packet: Pick<Packet, 'messageId'>, cb: Callback): this {
    readFile(this.#file(packet.messageId), 'utf8').then(
      (text) => {
        const r = JSON.parse(text) as {
          topic: string;
          payload: string;
          qos: 0 | 1 | 2;
          retain: boolean;
          messageId: number;
          properties?: Record<string, unknown>;
        };
        const properties = r.properties && {
          ...r.properties,
          ...(typeof r.properties.correlationData === 'string' && { correlationData: Buffer.from(r.properties.correlationData, 'base64') }),
        };
        cb(undefined, {
          cmd: 'publish',
          topic: r.topic,
          payload: Buffer.from(r.payload, 'base64'),
          qos: r.qos,
          retain: r.retain,
          dup: false,
          messageId: r.messageId,
          ...(properties && { properties }),
        } as Packet);
      },
      () => cb(new Error('missing packet')),
    );
    return this;
  }

  del(packet: Pick<Packet, 'messageId'>, cb: Callback): this {
    this.#run(() => unlink(this.#file(packet.messageId)).catch(() => undefined), cb);
    return this;
  }

  /** The client replays only its outgoing store on reconnection; nothing to stream here. */
  createStream(): ReturnType<IStore['createStream']> {
    return Readable.from([]) as unknown as ReturnType<IStore['createStream']>;
  }

  close(cb: (error?: Error) => void): void {
    cb();
  }

  /**
   * Forgets everything: the broker started a new session, so no PUBREL will come for these.
   * Synchronous, so it is done before the client handles the session's first PUBLISH.
   */
  clear(): void {
    let names: string[] = [];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return;
    }
    for (const name of names) rmSync(path.join(this.#dir, name), { force: true });
  }

  #file(messageId: number | undefined): string {
    return path.join(this.#dir, `${messageId ?? 0}.json`);
  }

  #mkdir(): Promise<unknown> {
    return (this.#ready ??= mkdir(this.#dir, { recursive: true }));
  }

  #run(work: () => Promise<unknown>, cb: (error?: Error) => void): void {
    work().then(
      () => cb(),
      (error: unknown) => cb(error as Error),
    );
  }
}
