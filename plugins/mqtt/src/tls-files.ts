import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@tbi/plugin-api';
import type { MqttConfig } from './config.js';

/** TLS material as the `mqtt` client takes it (Node `tls.connect` options). */
export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  passphrase?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** PEM text stays as is; anything else is a file path, relative to the config file's directory. */
async function pem(value: string | undefined, field: string, baseDir: string): Promise<Buffer | undefined> {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN')) return Buffer.from(value);
  const file = path.resolve(baseDir, value);
  try {
    return await readFile(file);
  } catch (cause) {
    throw new ConfigError({ path: `config.tls.${field}`, expected: 'PEM text or a readable PEM file', received: JSON.stringify(file), cause });
  }
}

/** Loads the CA, certificate and key named by `config.tls`; undefined when TLS is off. */
export async function loadTls(tls: MqttConfig['tls'], baseDir = process.cwd()): Promise<TlsOptions | undefined> {
  if (tls === undefined || !tls.enabled) return undefined;
  const [ca, cert, key] = await Promise.all([pem(tls.ca, 'ca', baseDir), pem(tls.cert, 'cert', baseDir), pem(tls.key, 'key', baseDir)]);
  return {
    ...(ca && { ca }),
    ...(cert && { cert }),
    ...(key && { key }),
    ...(tls.keyPassword !== undefined && { passphrase: tls.keyPassword }),
    rejectUnauthorized: tls.verify,
    ...(tls.servername !== undefined && { servername: tls.servername }),
  };
}
