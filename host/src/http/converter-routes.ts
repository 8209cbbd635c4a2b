import { Hono } from 'hono';
import { testConverter } from '@tbi/converter-sandbox';
import type { ConverterLimits } from '@tbi/plugin-api';

/**
 * `POST /converters/test` (mounted under `/api`, behind the token): runs a converter once in the
 * sandbox, like ThingsBoard's "Test converter" button. Body: `{ kind: "uplink", source, payload
 * (text) | payloadBase64, metadata? }` or `{ kind: "downlink", source, request: { msg, metadata,
 * msgType, integrationMetadata } }`.
 */
export function converterRoutes(options: { limits?: Partial<ConverterLimits> | undefined } = {}): Hono {
  const app = new Hono();
  app.post('/converters/test', async (c) => {
    let body: Record<string, unknown>;
    try {
      body = (await c.req.json()) as Record<string, unknown>;
    } catch {
      return c.json({ error: 'expected a JSON body' }, 400);
    }
    const kind = body.kind ?? 'uplink';
    if ((kind !== 'uplink' && kind !== 'downlink') || typeof body.source !== 'string') {
      return c.json({ error: 'expected { kind: "uplink" | "downlink", source: string, ... }' }, 400);
    }
    const limits = { ...options.limits, ...(body.limits as Partial<ConverterLimits> | undefined) };
    if (kind === 'uplink') {
      const payload =
        typeof body.payloadBase64 === 'string'
          ? Buffer.from(body.payloadBase64, 'base64')
          : Buffer.from(typeof body.payload === 'string' ? body.payload : JSON.stringify(body.payload ?? ''));
      const result = await testConverter({ kind, source: body.source, payload, metadata: (body.metadata as Record<string, string>) ?? {}, limits });
      return c.json(result);
    }
    const request = (body.request ?? {}) as Record<string, unknown>;
    const result = await testConverter({
      kind,
      source: body.source,
      request: {
        msg: request.msg ?? {},
        metadata: (request.metadata as Record<string, string>) ?? {},
        msgType: (request.msgType as string) ?? 'RPC_CALL_FROM_SERVER_TO_DEVICE',
        integrationMetadata: (request.integrationMetadata as Record<string, string>) ?? {},
      },
      limits,
    });
    return c.json(result);
  });
  return app;
}
