import { loadPem } from '@tbi/plugin-api';
import type { RabbitmqConfig } from './config.js';
import type { ConnectionOptions } from './driver/types.js';

/**
 * The broker address and credentials from `url` and the separate fields (fields win), with
 * ThingsBoard's defaults: 127.0.0.1, 5672 (5671 with TLS), vhost "/", guest. TLS settings that
 * name files are read here (relative to `configDir`), so a missing file fails the start.
 */
export async function connectionOptions(config: RabbitmqConfig, configDir = process.cwd()): Promise<ConnectionOptions> {
  const url = config.url === undefined ? undefined : new URL(config.url);
  const tls = config.tls !== undefined || url?.protocol === 'amqps:';
  const fromUrlVhost = url !== undefined && url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined;
  const options: ConnectionOptions = {
    host: config.host ?? (url?.hostname || '127.0.0.1'),
    port: config.port ?? (url?.port ? Number(url.port) : tls ? 5671 : 5672),
    vhost: config.virtualHost ?? fromUrlVhost ?? '/',
    username: config.username ?? (url?.username ? decodeURIComponent(url.username) : 'guest'),
    password: config.password ?? (url?.password ? decodeURIComponent(url.password) : 'guest'),
    heartbeatSec: config.heartbeatSec,
    connectionTimeoutMs: config.connectionTimeoutMs,
  };
  if (tls) {
    const t = config.tls ?? { rejectUnauthorized: true };
    options.tls = { rejectUnauthorized: t.rejectUnauthorized };
    const pem = (value: string, field: string) => loadPem(value, { configDir, path: `config.tls.${field}` });
    if (t.ca !== undefined) options.tls.ca = await pem(t.ca, 'ca');
    if (t.cert !== undefined) options.tls.cert = await pem(t.cert, 'cert');
    if (t.key !== undefined) options.tls.key = await pem(t.key, 'key');
    if (t.passphrase !== undefined) options.tls.passphrase = t.passphrase;
    if (t.servername !== undefined) options.tls.servername = t.servername;
  }
  return options;
}

/** `amqp://user@host:port/vhost` for logs and errors: never the password. */
export function describeBroker(o: ConnectionOptions): string {
  return `${o.tls ? 'amqps' : 'amqp'}://${o.username}@${o.host}:${o.port}/${encodeURIComponent(o.vhost)}`;
}
