import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@tbi/plugin-api';
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

/** PEM text as it is; anything else is a file path (relative to `baseDir`) whose content is read. */
export function pemOrFile(value: string, field: string, baseDir = process.cwd()): string {
  if (value.includes('-----BEGIN')) return value;
  const file = path.resolve(baseDir, value);
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError({ path: field, expected: 'PEM text or the path of a readable PEM file', received: JSON.stringify(file), cause });
  }
}

/**
 * Translates the integration's security and connection settings into client options: TLS for
 * `SSL`/`SASL_SSL`, SASL for `SASL_*`, then the user's extra `properties` on top.
 */
export function clientConnectionOptions(config: KafkaConfig): ClientConnectionOptions {
  const options: ClientConnectionOptions = {
    clientId: config.clientId,
    bootstrapBrokers: config.bootstrapServers,
    connectTimeout: config.connectTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
  };
  if (config.securityProtocol === 'SSL' || config.securityProtocol === 'SASL_SSL') {
    const ssl = config.ssl ?? { rejectUnauthorized: true };
    options.tls = { rejectUnauthorized: ssl.rejectUnauthorized };
    if (ssl.ca !== undefined) options.tls.ca = pemOrFile(ssl.ca, 'ssl.ca');
    if (ssl.cert !== undefined) options.tls.cert = pemOrFile(ssl.cert, 'ssl.cert');
    if (ssl.key !== undefined) options.tls.key = pemOrFile(ssl.key, 'ssl.key');
    if (ssl.passphrase !== undefined) options.tls.passphrase = ssl.passphrase;
    if (ssl.servername !== undefined) options.tls.servername = ssl.servername;
  }
  if (config.sasl !== undefined) {
    options.sasl = { mechanism: config.sasl.mechanism, username: config.sasl.username, password: config.sasl.password };
  }
  return { ...options, ...config.properties };
}
