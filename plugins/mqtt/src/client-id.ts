import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const FILE = 'mqtt-client-id';

/**
 * The configured client ID, or one generated once and kept in the integration's data dir.
 * A stable ID matters: a persistent session (and the messages the broker queued for it while the
 * host was down) belongs to a client ID, so a fresh random ID per start would lose them.
 */
export async function resolveClientId(configured: string | undefined, integration: string, dataDir: string): Promise<string> {
  if (configured !== undefined) return configured;
  const file = path.join(dataDir, FILE);
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored !== '') return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // MQTT 3.1 allows 23 characters; keep the readable part short enough for that too.
  const safe = integration.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 10) || 'mqtt';
  const id = `tbi-${safe}-${randomBytes(4).toString('hex')}`;
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${id}\n`);
  return id;
}
