import { randomBytes } from 'node:crypto';
import { persistentId } from '@tbi/plugin-api';

/**
 * The configured client ID, or one generated once and kept in the integration's data dir.
 * A stable ID matters: a persistent session (and the messages the broker queued for it while the
 * host was down) belongs to a client ID, so a fresh random ID per start would lose them.
 */
export async function resolveClientId(configured: string | undefined, integration: string, dataDir: string): Promise<string> {
  if (configured !== undefined) return configured;
  // MQTT 3.1 allows 23 characters; keep the readable part short enough for that too.
  const safe = integration.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 10) || 'mqtt';
  return persistentId({ dataDir, file: 'mqtt-client-id', create: () => `tbi-${safe}-${randomBytes(4).toString('hex')}` });
}
