import { isIP } from 'node:net';
import { z } from 'zod';

/** Header names are case-insensitive; keep them lower-case so lookups and metadata keys agree. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a valid HTTP header name')
  .transform((name) => name.toLowerCase());

const cidr = z.string().refine(isCidr, { message: 'an IPv4 or IPv6 address or CIDR range, e.g. 10.0.0.0/8 or 2001:db8::/32' });

/** HMAC signature check of the raw body (GitHub / Stripe style webhooks). */
const hmacSchema = z.strictObject({
  /** Header that carries the signature, e.g. `x-hub-signature-256` (GitHub). */
  header: headerName,
  /** Shared secret; put `${env:WEBHOOK_SECRET}` in the config so it comes from the environment. */
  secret: z.string().min(1),
  algorithm: z.enum(['sha256', 'sha512', 'sha1']).default('sha256'),
  /** `auto` accepts `sha256=<hex>` (GitHub), plain hex and Base64. */
  encoding: z.enum(['auto', 'hex', 'base64']).default('auto'),
  /** Header with the send time (epoch s or ms); when set, `<timestamp>.<body>` is what is signed. */
  timestampHeader: headerName.optional(),
  /** Replay window: a timestamp further than this from now is refused. */
  toleranceSeconds: z.number().int().positive().default(300),
});

/** Token bucket shared by every caller of this integration instance. */
const rateLimitSchema = z.strictObject({
  requestsPerSecond: z.number().positive(),
  /** Requests allowed at once above the steady rate; defaults to one second's worth. */
  burst: z.number().int().positive().optional(),
});

/** Outbound downlink: the host sends each downlink to this URL instead of waiting for an uplink. */
const downlinkSchema = z.strictObject({
  /** `${deviceName}` and `${metadata.<key>}` (the downlink converter's output metadata) are replaced, URL-encoded. */
  url: z.string().min(1).optional(),
  method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE', 'GET']).default('POST'),
  /** Extra request headers; values may use the same placeholders (not encoded). */
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().positive().default(10_000),
  /** Extra attempts after the first one, for network errors, 408, 429 and 5xx answers. */
  retries: z.number().int().min(0).max(20).default(3),
  /** First backoff; doubles each attempt up to `maxBackoffMs`, with ±20 % jitter. */
  backoffMs: z.number().int().positive().default(500),
  maxBackoffMs: z.number().int().positive().default(30_000),
  /** Synchronous mode (no `url`): downlinks kept per device until its next uplink; the oldest is dropped beyond this. */
  maxPendingPerDevice: z.number().int().positive().default(100),
});

/**
 * The `config` block of an `http` integration. Every field has a default, so `config: {}` works.
 *
 * @example
 * { routingKey: 'c2a3…', replaceNoContentToOk: true, hmac: { header: 'x-hub-signature-256', secret: '${env:GH_SECRET}' } }
 */
export const httpConfigSchema = z.strictObject({
  /** Path segment of the endpoint; generated (UUID) and kept in the integration's data dir if absent. */
  routingKey: z
    .string()
    .regex(/^[A-Za-z0-9._~-]+$/, 'a URL path segment of letters, digits, ".", "_", "~" or "-"')
    .optional(),
  /** ThingsBoard "Replace response status from No-Content to OK": 200 instead of 204. */
  replaceNoContentToOk: z.boolean().default(false),
  /** Larger request bodies are refused with 413. */
  maxBodyBytes: z.number().int().positive().default(1_048_576),
  /** How long a request waits for the message to be stored before it gets 503 (the sender retries). */
  responseTimeoutMs: z.number().int().positive().default(30_000),
  /** `Retry-After` (seconds) sent with 503 answers. */
  retryAfterSeconds: z.number().int().positive().default(5),
  /** Every header listed must be present with exactly this value, else 403 (ThingsBoard "headers filter"). */
  headersFilter: z.record(headerName, z.string()).default({}),
  hmac: hmacSchema.optional(),
  /** Client addresses or CIDR ranges allowed to call; empty allows everyone. */
  ipAllowlist: z.array(cidr).default([]),
  rateLimit: rateLimitSchema.optional(),
  downlink: downlinkSchema.default(downlinkSchema.parse({})),
});

/** The validated configuration of one `http` integration instance. */
export type HttpConfig = z.output<typeof httpConfigSchema>;
/** The configuration as written in the config file (defaults optional). */
export type HttpConfigInput = z.input<typeof httpConfigSchema>;
export type HmacConfig = z.output<typeof hmacSchema>;
export type RateLimitConfig = z.output<typeof rateLimitSchema>;
export type DownlinkConfig = z.output<typeof downlinkSchema>;

/** The same schema as JSON Schema (draft 2020-12), for `tbi schema` and editors. */
export const configJsonSchema = z.toJSONSchema(httpConfigSchema, { io: 'input' }) as Record<string, unknown>;

function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
