import { Hono, type Context } from 'hono';
import { ConverterError, isTbiError, type Logger } from '@tbi/plugin-api';
import { REDACTED, redactTree } from '../config/redact.js';
import type { ConverterKind, IntegrationInstance } from '../lifecycle/integration-instance.js';
import type { Supervisor } from '../lifecycle/supervisor.js';
import type { HostEnv } from './create-app.js';

/** Keys whose values are masked even when written literally in the file (not from `${env:…}`). */
const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|private[-_]?key|credential/i;

function maskSecretKeys(tree: unknown): unknown {
  if (Array.isArray(tree)) return tree.map(maskSecretKeys);
  if (tree !== null && typeof tree === 'object') {
    return Object.fromEntries(
      Object.entries(tree).map(([k, v]) => [k, SECRET_KEY.test(k) && (typeof v === 'string' || typeof v === 'number') ? REDACTED : maskSecretKeys(v)]),
    );
  }
  return tree;
}

/**
 * What the console's integration page and converter editor read and change (under `/api`,
 * behind the token):
 * - `GET /integrations/:name/config` — the integration's entry of the config file, secrets masked
 *   (values from the environment, and values of keys such as `password` or `token`).
 * - `GET /integrations/:name/converters` — `{uplink, downlink?}`: `{source, origin, writesBack, version?}`.
 * - `PUT /integrations/:name/converters/:kind` `{source}` — runs the source from now on
 *   (`IntegrationInstance.applyConverter`: atomic, written back to the converter file). 200
 *   `{applied, file?, status}`; 422 with the compile error when it does not compile (nothing changed).
 */
export function integrationDetailRoutes(supervisor: Supervisor, logger: Logger, redact: (text: string) => string): Hono<HostEnv> {
  const app = new Hono<HostEnv>();
  const find = (c: Context<HostEnv>): IntegrationInstance | Response =>
    supervisor.get(c.req.param('name')!) ?? c.json({ error: `no integration named "${c.req.param('name')}"` }, 404);

  app.get('/integrations/:name/config', (c) => {
    const instance = find(c);
    if (instance instanceof Response) return instance;
    return c.json(maskSecretKeys(redactTree(instance.entry, redact)));
  });

  app.get('/integrations/:name/converters', async (c) => {
    const instance = find(c);
    if (instance instanceof Response) return instance;
    return c.json(await instance.converterSources());
  });

  app.put('/integrations/:name/converters/:kind{uplink|downlink}', async (c) => {
    const instance = find(c);
    if (instance instanceof Response) return instance;
    if (supervisor.shuttingDown) return c.json({ error: 'the host is shutting down' }, 503);
    const body = (await c.req.json().catch(() => undefined)) as { source?: unknown } | undefined;
    if (typeof body?.source !== 'string' || body.source.trim() === '') return c.json({ error: 'expected a JSON body {"source": "<converter source>"}' }, 400);
    const kind = c.req.param('kind') as ConverterKind;
    logger.info({ integration: instance.name, converter: kind, remoteAddress: c.get('remoteAddress') }, 'converter apply requested through the API');
    try {
      const applied = await instance.applyConverter(kind, body.source);
      return c.json({ ...applied, status: instance.status() });
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      if (cause instanceof ConverterError) return c.json({ error: `the running converter was kept: ${message}`, status: instance.status() }, 422);
      if (isTbiError(cause)) return c.json({ error: message, code: cause.code, status: instance.status() }, cause.code === 'NO_DOWNLINK_CONVERTER' ? 404 : 500);
      throw cause;
    }
  });
  return app;
}
