import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isTbiError, type Logger } from '@tbi/plugin-api';
import type { EmbeddedPlatform } from './embedded-platform.js';
import { deviceNotFound, invalidArgument } from './errors.js';
import { silentLogger } from './silent-logger.js';
import type { Aggregation, CommandStatus, RpcRequest } from './types.js';

const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  DEVICE_NOT_FOUND: 404,
  INVALID_ARGUMENT: 400,
  RPC_TIMEOUT: 504,
  RPC_DELIVERY_FAILED: 502,
  DELIVERY_FAILED: 503,
  SHUTTING_DOWN: 503,
};

/** An optional integer query parameter; `undefined` when absent, 400 when not an integer. */
function intParam(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw invalidArgument(`${name} must be an integer`, { [name]: raw });
  return Number(raw);
}

function requiredInt(c: Context, name: string): number {
  const value = intParam(c, name);
  if (value === undefined) throw invalidArgument(`${name} is required (epoch ms)`);
  return value;
}

function listParam(c: Context, name: string): string[] | undefined {
  const raw = c.req.query(name);
  return raw === undefined || raw === ''
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw invalidArgument('the body must be JSON');
  }
}

/**
 * The REST API of the embedded platform as a Hono app, with paths relative to where the host
 * mounts it (`/api`, behind its token check). Errors are JSON `{error: {code, message}}`:
 * 400 bad input, 404 unknown device, 502 RPC not deliverable, 503 store unavailable, 504 RPC timeout.
 *
 * @example
 * app.route('/api', createPlatformRoutes(platform)); // GET /api/devices?search=boiler
 */
export function createPlatformRoutes(platform: EmbeddedPlatform, options: { logger?: Logger } = {}): Hono {
  const logger = options.logger ?? silentLogger;
  const app = new Hono();

  app.get('/devices', (c) =>
    c.json(
      platform.listDevices({
        search: c.req.query('search') || undefined,
        type: c.req.query('type') || undefined,
        limit: intParam(c, 'limit'),
        offset: intParam(c, 'offset'),
      }),
    ),
  );

  app.get('/devices/:name', (c) => {
    const device = platform.getDevice(c.req.param('name'));
    if (device === undefined) throw deviceNotFound(c.req.param('name'));
    return c.json(device);
  });

  app.get('/devices/:name/telemetry/latest', (c) => c.json(platform.latestTelemetry(c.req.param('name'), listParam(c, 'keys'))));

  app.get('/devices/:name/telemetry/:key', (c) => {
    const order = c.req.query('order');
    const points = platform.telemetry(c.req.param('name'), c.req.param('key'), {
      from: requiredInt(c, 'from'),
      to: requiredInt(c, 'to'),
      limit: intParam(c, 'limit'),
      intervalMs: intParam(c, 'interval'),
      agg: (c.req.query('agg')?.toLowerCase() || undefined) as Aggregation | undefined,
      order: (order?.toLowerCase() || undefined) as 'asc' | 'desc' | undefined,
    });
    return c.json(points);
  });

  app.get('/devices/:name/attributes/:scope', (c) => c.json(platform.getAttributes(c.req.param('name'), c.req.param('scope') as never, listParam(c, 'keys'))));

  app.post('/devices/:name/attributes/:scope', async (c) => {
    const body = await jsonBody(c);
    return c.json(await platform.setAttributes(c.req.param('name'), c.req.param('scope') as never, body as Record<string, unknown>));
  });

  app.post('/devices/:name/rpc', async (c) => {
    const body = await jsonBody(c);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidArgument('the body must be {method, params, oneway?, timeoutMs?}');
    return c.json(await platform.sendRpc(c.req.param('name'), body as RpcRequest));
  });

  app.get('/devices/:name/commands', (c) =>
    c.json(
      platform.listCommands(c.req.param('name'), {
        limit: intParam(c, 'limit'),
        status: (c.req.query('status') || undefined) as CommandStatus | undefined,
      }),
    ),
  );

  app.onError((error, c) => {
    if (isTbiError(error)) {
      const status = STATUS_BY_CODE[error.code] ?? 500;
      const requestId = (error.context as { requestId?: unknown }).requestId;
      return c.json({ error: { code: error.code, message: error.message, ...(requestId === undefined ? {} : { requestId }) } }, status);
    }
    logger.error({ err: error, path: c.req.path }, 'embedded platform API: unexpected error');
    return c.json({ error: { code: 'INTERNAL', message: 'internal error' } }, 500);
  });

  return app;
}
