import { loadPem } from '@tbi/plugin-api';
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
function pem(value: string | undefined, field: string, configDir: string): Promise<Buffer | undefined> {
  return value === undefined ? Promise.resolve(undefined) : loadPem(value, { configDir, path: `config.tls.${field}` });
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
