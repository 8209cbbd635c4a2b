import { loadPem } from '@tbi/plugin-api';
import type { KafkaConfig } from '../config.js';

/** Connection options shared by every client of one integration (platformatic `BaseOptions`). */
export interface ClientConnectionOptions {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  requestTimeout: number;
  tls?: { ca?: string; cert?: string; key?: string; passphrase?: string; rejectUnauthorized: boolean; servername?: string };
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
  [extra: string]: unknown;
}

/**
 * Translates the integration's security and connection settings into client options: TLS for
 * `SSL`/`SASL_SSL` (PEM text, or files relative to `configDir`: pass `ctx.configDir`), SASL for
 * `SASL_*`, then the user's extra `properties` on top.
 */
export async function clientConnectionOptions(config: KafkaConfig, configDir: string): Promise<ClientConnectionOptions> {
  const options: ClientConnectionOptions = {
    clientId: config.clientId,
    bootstrapBrokers: config.bootstrapServers,
    connectTimeout: config.connectTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
  };
  if (config.securityProtocol === 'SSL' || config.securityProtocol === 'SASL_SSL') {
    const ssl = config.ssl ?? { rejectUnauthorized: true };
    options.tls = { rejectUnauthorized: ssl.rejectUnauthorized };
    const pem = async (value: string, field: 'ca' | 'cert' | 'key') => (await loadPem(value, { configDir, path: `config.ssl.${field}` })).toString('utf8');
    if (ssl.ca !== undefined) options.tls.ca = await pem(ssl.ca, 'ca');
    if (ssl.cert !== undefined) options.tls.cert = await pem(ssl.cert, 'cert');
    if (ssl.key !== undefined) options.tls.key = await pem(ssl.key, 'key');
    if (ssl.passphrase !== undefined) options.tls.passphrase = ssl.passphrase;
    if (ssl.servername !== undefined) options.tls.servername = ssl.servername;
  }
  if (config.sasl !== undefined) {
    options.sasl = { mechanism: config.sasl.mechanism, username: config.sasl.username, password: config.sasl.password };
  }
  return { ...options, ...config.properties };
}
