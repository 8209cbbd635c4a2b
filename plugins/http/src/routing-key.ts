import { randomUUID } from 'node:crypto';
import { persistentId } from '@tbi/plugin-api';

/**
 * The routing key of an instance: the configured one, else the one generated on an earlier start
 * (kept in the integration's data directory so the endpoint URL survives restarts), else a new
 * UUID, which is then kept.
 */
export async function resolveRoutingKey(configured: string | undefined, dataDir: string): Promise<{ key: string; source: 'config' | 'stored' | 'generated' }> {
  if (configured !== undefined) return { key: configured, source: 'config' };
  let generated = false;
  const key = await persistentId({
    dataDir,
    file: 'routing-key',
    create: () => {
      generated = true;
      return randomUUID();
    },
  });
  return { key, source: generated ? 'generated' : 'stored' };
}
