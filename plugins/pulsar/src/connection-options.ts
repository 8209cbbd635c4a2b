import { loadPem, type IntegrationContext } from '@tbi/plugin-api';
import type { PulsarConfig } from './config.js';
import type { ConnectionOptions } from './driver/types.js';
import { currentToken } from './token.js';

/** The token (read anew, see `currentToken`) and TLS material for one connection of an integration. */
export async function connectionOptions(ctx: IntegrationContext<PulsarConfig>): Promise<ConnectionOptions> {
  const { tls } = ctx.config;
  const options: ConnectionOptions = {};
  const token = currentToken(ctx.config, ctx.configDir);
  if (token !== undefined) options.token = token;
  if (tls) {
    const pem = (v: string | undefined, path: string) => (v === undefined ? undefined : loadPem(v, { configDir: ctx.configDir, path }));
    options.tls = { rejectUnauthorized: tls.rejectUnauthorized };
    const [ca, cert, key] = await Promise.all([pem(tls.ca, 'config.tls.ca'), pem(tls.cert, 'config.tls.cert'), pem(tls.key, 'config.tls.key')]);
    if (ca) options.tls.ca = ca;
    if (cert) options.tls.cert = cert;
    if (key) options.tls.key = key;
  }
  return options;
}
