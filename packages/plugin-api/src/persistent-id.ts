import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Options of `persistentId`. */
export interface PersistentIdOptions {
  /** The integration's own folder: pass `ctx.dataDir`. */
  dataDir: string;
  /** File name inside it, e.g. `mqtt-client-id`. */
  file: string;
  /** Makes the id the first time (default: 16 hex characters). */
  create?: () => string;
}

/**
 * An id made once and kept in the integration's data folder, the same on every later start: an
 * MQTT client id (a persistent session belongs to it), a Kafka `client.id`, a generated routing
 * key. Written atomically, so a crash never leaves an empty id behind.
 *
 * @example
 * const clientId = config.clientId ?? (await persistentId({ dataDir: ctx.dataDir, file: 'mqtt-client-id',
 *   create: () => `tbi-${ctx.name.slice(0, 10)}-${randomBytes(4).toString('hex')}` }));
 */
export async function persistentId(options: PersistentIdOptions): Promise<string> {
  const file = path.join(options.dataDir, options.file);
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored !== '') return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const id = (options.create ?? (() => randomBytes(8).toString('hex')))();
  await mkdir(options.dataDir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${id}\n`);
  await rename(temporary, file);
  return id;
}
