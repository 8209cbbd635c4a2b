import {
  isRetryable,
  isShutdownError,
  isTbiError,
  type HttpRequestContext,
  type IntegrationContext,
  type OutboundDownlink,
  type UplinkOutcome,
} from '@tbi/plugin-api';
import type { HttpConfig } from './config.js';
import { downlinkResponse } from './downlink-response.js';
import { readBody } from './read-body.js';
import { requestMetadata } from './request-metadata.js';
import { headersFilter } from './security/headers-filter.js';
import { hmacVerifier } from './security/hmac.js';
import { ipAllowlist } from './security/ip-allowlist.js';
import { rateLimiter } from './security/rate-limit.js';
import { replayGuard } from './security/replay-guard.js';

/** Lifecycle of the integration as the routes see it. */
export type SourceState = 'starting' | 'running' | 'stopped';

/** What the uplink routes need besides the integration context. */
export interface SourceOptions {
  routingKey: string;
  state: () => SourceState;
}

type Ctx = HttpRequestContext;

/** Thrown inside the route when the pipeline took longer than `responseTimeoutMs`. */
const TIMED_OUT = Symbol('timed out');

/** Methods the endpoint answers; the others get 405 with this as `Allow`. */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT';

/**
 * Mounts the ThingsBoard-compatible webhook endpoint on the integration's router:
 * `POST|PUT /{routingKey}[/suffix…]` is an uplink, `GET|HEAD` a status check, anything else
 * (`TRACE`, `DELETE`, …) 405. The router is already under `/api/v1/integrations/http`; the
 * routing key is a literal path segment because all `http` instances share that prefix.
 *
 * Order of checks, cheapest first: lifecycle (503), IP allowlist (403), rate limit (429),
 * headers filter (403), body size (413), HMAC (401), replay (409). Then the message goes through
 * the pipeline and the answer waits until it is stored. Status checks pass the lifecycle, the
 * allowlist and the headers filter only: they have no body to sign, and tell nothing that an
 * unsigned POST (401, not 404) does not.
 */
export function mountUplinkRoutes(ctx: IntegrationContext<HttpConfig>, options: SourceOptions): void {
  const { config, logger } = ctx;
  const now = () => ctx.clock.now();
  const allowed = ipAllowlist(config.ipAllowlist);
  const headersOk = headersFilter(config.headersFilter);
  const verify = config.hmac === undefined ? undefined : hmacVerifier(config.hmac, now);
  const toleranceMs = (config.hmac?.toleranceSeconds ?? 0) * 1000;
  const replays = config.hmac?.replayProtection === true ? replayGuard({ windowMs: toleranceMs, maxEntries: config.hmac.replayCacheSize }, now) : undefined;
  const takeToken = config.rateLimit === undefined ? undefined : rateLimiter(config.rateLimit, now);
  const hidden = new Set(Object.keys(config.headersFilter));
  const requests = ctx.metrics.counter('tbi_http_uplink_requests_total', 'Uplink requests of the HTTP integration by response status', ['status']);
  const retryAfter = String(config.retryAfterSeconds);

  const answer = (status: number, body?: Record<string, unknown>, headers: Record<string, string> = {}): Response => {
    requests.inc({ status: String(status) });
    if (body === undefined) return new Response(null, { status, headers });
    return Response.json(body, { status, headers });
  };
  const unavailable = (message: string) => answer(503, { error: 'UNAVAILABLE', message }, { 'retry-after': retryAfter });

  /** The checks every method passes: lifecycle, allowlist, (for uplinks) rate limit, headers filter. */
  const refused = (c: Ctx, kind: 'uplink' | 'status check'): Response | undefined => {
    if (options.state() !== 'running') return unavailable(`integration ${ctx.name} is not running`);
    const remoteAddress = c.get('remoteAddress') ?? '';
    if (!allowed(remoteAddress)) {
      logger.debug({ remoteAddress }, `${kind} refused: address not in the allowlist`);
      return answer(403, { error: 'FORBIDDEN', message: 'address not allowed' });
    }
    if (kind === 'uplink') {
      const limited = takeToken?.();
      if (limited !== undefined && !limited.ok) {
        return answer(
          429,
          { error: 'RATE_LIMITED', message: 'too many requests' },
          { 'retry-after': String(Math.max(1, Math.ceil(limited.retryAfterMs / 1000))) },
        );
      }
    }
    if (!headersOk((name) => c.req.raw.headers.get(name) ?? undefined)) {
      logger.debug({ remoteAddress }, `${kind} refused: headers filter not met`);
      return answer(403, { error: 'FORBIDDEN', message: 'headers filter not met' });
    }
    return undefined;
  };

  const uplink = async (c: Ctx, pathSuffix: string): Promise<Response> => {
    const refusal = refused(c, 'uplink');
    if (refusal !== undefined) return refusal;
    const remoteAddress = c.get('remoteAddress') ?? '';
    const header = (name: string) => c.req.raw.headers.get(name) ?? undefined;
    const payload = await readBody(c.req.raw, config.maxBodyBytes);
    if (payload === undefined) {
      return answer(413, { error: 'PAYLOAD_TOO_LARGE', message: `body larger than ${config.maxBodyBytes} bytes` });
    }
    let claimed: string | undefined;
    if (verify !== undefined) {
      const verdict = verify(payload, header);
      if (!verdict.ok) {
        logger.debug({ remoteAddress, reason: verdict.reason }, 'uplink refused: signature check failed');
        return answer(401, { error: 'BAD_SIGNATURE', message: verdict.reason });
      }
      if (replays !== undefined) {
        if (!replays.claim(verdict.digest, verdict.timestampMs ?? now())) {
          logger.debug({ remoteAddress }, 'uplink refused: replay of an accepted signature');
          return answer(409, {
            error: 'REPLAYED',
            message: `replayed-signature: a request with this signature was already accepted within the last ${toleranceMs / 1000} s`,
          });
        }
        claimed = verdict.digest;
      }
    }
    // A request that ends without being stored (503, 500) may be retried as is: forget its signature.
    const forget = (response: Response): Response => {
      if (claimed !== undefined && response.status >= 500) replays?.release(claimed);
      return response;
    };
    const metadata = requestMetadata({
      method: c.req.method,
      headers: c.req.raw.headers,
      search: searchOf(c.req.url),
      pathSuffix,
      remoteAddress,
      hiddenHeaders: hidden,
    });
    return forget(await store(payload, metadata, remoteAddress));
  };

  /** Submits the message and answers once it is stored (or dead-lettered, or not stored in time). */
  const store = async (payload: Uint8Array, metadata: Record<string, string>, remoteAddress: string): Promise<Response> => {
    let outcome: UplinkOutcome | undefined;
    try {
      const submitted = ctx.uplink.submit([{ payload, metadata, receivedAt: now() }]);
      const result = await withTimeout(submitted, config.responseTimeoutMs);
      if (result === TIMED_OUT) {
        // Not acknowledged: the sender must retry. The pipeline may still store this message
        // later, so a retry can duplicate it (at-least-once).
        submitted.then(
          (late) => logger.info({ remoteAddress, outcome: late[0]?.status }, 'uplink finished after its request had been answered 503'),
          () => {},
        );
        logger.warn({ timeoutMs: config.responseTimeoutMs }, 'uplink not stored in time; answered 503');
        return unavailable('the platform did not store the message in time; retry later');
      }
      outcome = result[0];
    } catch (error) {
      // Stopping, or a failure that may pass: the sender retries later (it was not acknowledged).
      if (isShutdownError(error) || (isTbiError(error) && isRetryable(error))) {
        return unavailable(error instanceof Error ? error.message : String(error));
      }
      logger.error({ err: error }, 'uplink failed unexpectedly');
      return answer(500, { error: 'INTERNAL', message: 'internal error' });
    }
    if (outcome === undefined) return answer(500, { error: 'INTERNAL', message: 'no outcome for the message' });
    if (outcome.status !== 'stored') {
      const { kind, message, path } = outcome.error;
      return answer(400, { error: `CONVERTER_${kind}`, message, ...(path === undefined ? {} : { path }) });
    }
    if (outcome.records.length === 0) return answer(204);
    const downlink = takeDownlink(
      ctx,
      outcome.records.map((r) => r.deviceName),
    );
    if (downlink !== undefined) {
      requests.inc({ status: '200' });
      logger.debug({ deviceName: downlink.deviceName, commandId: downlink.commandId }, 'downlink delivered in the uplink response');
      return downlinkResponse(downlink);
    }
    return answer(config.replaceNoContentToOk ? 200 : 204);
  };

  const statusCheck = (c: Ctx): Response => refused(c, 'status check') ?? new Response(null, { status: 200 });
  const notAllowed = () => answer(405, { error: 'METHOD_NOT_ALLOWED', message: `allowed methods: ${ALLOWED_METHODS}` }, { allow: ALLOWED_METHODS });

  const base = `/${options.routingKey}`;
  const withSuffix = `${base}/:suffix{.+}`;
  ctx.http.on(['POST', 'PUT'], [base, withSuffix], (c) => uplink(c, c.req.param('suffix') ?? ''));
  ctx.http.get(base, statusCheck);
  ctx.http.get(withSuffix, statusCheck);
  ctx.http.all(base, notAllowed);
  ctx.http.all(withSuffix, notAllowed);
}

/** The first downlink waiting in the host's queue for any device of the message. */
function takeDownlink(ctx: IntegrationContext<HttpConfig>, devices: string[]): OutboundDownlink | undefined {
  for (const name of new Set(devices)) {
    const found = ctx.downlinks.take(name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The query string of a URL with its `?`, or empty, without parsing the URL. */
function searchOf(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return '';
  const end = url.indexOf('#', start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
