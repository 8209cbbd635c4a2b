import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const FILE = 'routing-key';

/**
 * The routing key of an instance: the configured one, else the one generated on an earlier start
 * (kept in the integration's data directory so the endpoint URL survives restarts), else a new
 * UUID, which is then kept.
 */
export async function resolveRoutingKey(configured: string | undefined, dataDir: string): Promise<{ key: string; source: 'config' | 'stored' | 'generated' }> {
  if (configured !== undefined) return { key: configured, source: 'config' };
  const file = path.join(dataDir, FILE);
  const stored = await readFile(file, 'utf8').then((s) => s.trim(), () => '');
  if (/^[A-Za-z0-9._~-]+$/.test(stored)) return { key: stored, source: 'stored' };
  const key = randomUUID();
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${key}\n`, 'utf8');
  return { key, source: 'generated' };
}
