import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type { Metadata } from '@tbi/plugin-api';

/** One message the connector refused before conversion (too large), as kept on disk. */
export interface RejectedMessage {
  /** Epoch ms. */
  at: number;
  reason: string;
  size: number;
  metadata: Metadata;
  payload: Uint8Array;
}

/**
 * The connector's own dead letters, for messages refused before they reach the pipeline (today:
 * larger than `maxMessageBytes`). One JSON object per line in `<dataDir>/rejected.jsonl`, payload
 * in Base64, synced to disk before the message is acknowledged to the broker.
 *
 * Why a file of its own: `@tbi/plugin-api` 1.0 dead-letters only converter failures (through
 * `uplink.submit`); it has no way to hand the host a message with a reason of the connector's.
 */
export class RejectedFile {
  readonly file: string;
  #chain: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'rejected.jsonl');
  }

  /** Appends and syncs; writes are serialised so lines never interleave. */
  append(message: RejectedMessage): Promise<void> {
    const line = `${JSON.stringify({
      at: new Date(message.at).toISOString(),
      reason: message.reason,
      size: message.size,
      metadata: message.metadata,
      payload: Buffer.from(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength).toString('base64'),
    })}\n`;
    const write = this.#chain.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const handle = await open(this.file, 'a');
      try {
        await handle.write(line);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    });
    this.#chain = write.catch(() => undefined);
    return write;
  }
}
