import { isIP } from 'node:net';
import type { ExclusiveKey } from '@tbi/plugin-api';
import { z } from 'zod';

// Values may come from `${env:NAME}` references, which are strings: numbers and booleans accept
// their string forms too (as the host's own schema does).
// No coercion here: the host turns `${env:…}` strings into the number or boolean that the
// published JSON Schema asks for at their place (host/src/config/coerce-to-schema.ts).
const int = () => z.number().int();
const bool = () => z.boolean();

/** Header names are case-insensitive; keep them lower-case so lookups and metadata keys agree. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a valid HTTP header name')
  .transform((name) => name.toLowerCase());

const cidr = z.string().refine(isCidr, { message: 'an IPv4 or IPv6 address or CIDR range, e.g. 10.0.0.0/8 or 2001:db8::/32' });

/** HMAC signature check of the raw body (GitHub / Stripe style webhooks). */
const hmacSchema = z
  .strictObject({
    header: headerName.describe('Header that carries the signature, e.g. x-hub-signature-256 (GitHub).'),
    secret: z.string().min(1).describe('Shared secret; write ${env:NAME} so it comes from the environment.'),
    algorithm: z.enum(['sha256', 'sha512', 'sha1']).default('sha256'),
    encoding: z.enum(['auto', 'hex', 'base64']).default('auto').describe('auto accepts sha256=<hex> (GitHub), plain hex and Base64.'),
    timestampHeader: headerName.optional().describe('Header with the send time (epoch s or ms); when set, "<timestamp>.<body>" is what is signed.'),
    toleranceSeconds: int().positive().default(300).describe('Replay window: timestamps further from now are refused.'),
    replayProtection: bool().default(true).describe('Refuse (409) a signature already accepted within toleranceSeconds: an exact replay of a request.'),
    replayCacheSize: int()
      .positive()
      .max(10_000_000)
      .default(100_000)
      .describe('Most signatures remembered for replayProtection (about 150 bytes each); the oldest are forgotten first.'),
  })
  .describe('Verify an HMAC signature of the raw body; 401 when it does not match.');

/** Token bucket shared by every caller of this integration instance. */
const rateLimitSchema = z
  .strictObject({
    requestsPerSecond: z.number().positive().describe('Average requests per second allowed.'),
    burst: int().positive().optional().describe('Requests allowed at once; default one second of requests.'),
  })
  .describe('Per-integration rate limit; 429 with Retry-After beyond it.');

/** Where downlinks go: a URL the plugin calls, or (without url) the device's next uplink response. */
const downlinkSchema = z
  .strictObject({
    url: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Outbound downlink URL; ${deviceName}, ${commandId} and ${metadata.<key>} are replaced (URL-encoded). Without it, downlinks go back in uplink responses.',
      ),
    method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE', 'GET']).default('POST'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers; values may use the same placeholders.'),
    timeoutMs: int().positive().default(10_000).describe('Time limit of one request.'),
    retries: int().min(0).max(20).default(3).describe('Extra attempts after network errors, timeouts, 408, 429 and 5xx.'),
    backoffMs: int()
      .positive()
      .default(500)
      .describe('First backoff; doubles each attempt (each wait 80–100 % of its step); a longer Retry-After is honoured.'),
    maxBackoffMs: int().positive().default(30_000),
    maxPendingPerDevice: int().positive().default(100).describe('Without url: downlinks kept per device until its next uplink; beyond it the oldest fails.'),
  })
  .describe('Downlinks: outbound URL, or synchronous (in the response to the next uplink).');

/**
 * The `config` block of an `http` integration. Every field has a default, so `config: {}` works.
 *
 * @example
 * { routingKey: 'c2a3…', replaceNoContentToOk: true, hmac: { header: 'x-hub-signature-256', secret: '${env:GH_SECRET}' } }
 */
export const httpConfigSchema = z.strictObject({
  routingKey: z
    .string()
    .regex(/^[A-Za-z0-9._~-]+$/, 'a URL path segment of letters, digits, ".", "_", "~" or "-"')
    .optional()
    .describe('Path segment of the endpoint; generated (UUID) and kept in the data dir when absent.'),
  replaceNoContentToOk: bool().default(false).describe('ThingsBoard "Replace response status from No-Content to OK": 200 instead of 204.'),
  maxBodyBytes: int().positive().default(1_048_576).describe('Larger bodies are refused with 413.'),
  responseTimeoutMs: int()
    .positive()
    .default(30_000)
    .describe('How long a request waits for its message to be stored before it gets 503 (the sender retries).'),
  retryAfterSeconds: int().positive().default(5).describe('Retry-After sent with 503 answers.'),
  headersFilter: z.record(headerName, z.string()).default({}).describe('Headers that must be present with exactly these values, else 403.'),
  hmac: hmacSchema.optional(),
  ipAllowlist: z.array(cidr).default([]).describe('Client addresses or CIDR ranges (IPv4, IPv6) allowed; empty allows all.'),
  rateLimit: rateLimitSchema.optional(),
  downlink: downlinkSchema.default(() => downlinkSchema.parse({})),
});

/** The validated configuration of one `http` integration instance. */
export type HttpConfig = z.output<typeof httpConfigSchema>;
/** The configuration as written in the config file (defaults optional). */
export type HttpConfigInput = z.input<typeof httpConfigSchema>;
export type HmacConfig = z.output<typeof hmacSchema>;
export type RateLimitConfig = z.output<typeof rateLimitSchema>;
export type DownlinkConfig = z.output<typeof downlinkSchema>;

/** The same schema as JSON Schema (draft 2020-12), for `tbi schema` and editors. */
export const configJsonSchema = toJsonSchema();

function toJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(httpConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  // zod leaves out defaults of schemas with a transform (the string forms of booleans); state it for editors.
  const props = schema.properties as Record<string, Record<string, unknown>>;
  if (props.replaceNoContentToOk) props.replaceNoContentToOk.default = false;
  const hmac = props.hmac?.properties as Record<string, Record<string, unknown>> | undefined;
  if (hmac?.replayProtection) hmac.replayProtection.default = true;
  return schema;
}

function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * What an `http` instance claims on the host's HTTP surface: its configured routing key (a
 * generated one is unique by construction). Two instances with one key would share one URL.
 */
export function httpExclusiveKeys(config: HttpConfig): ExclusiveKey[] {
  if (config.routingKey === undefined) return [];
  return [{ key: config.routingKey, path: ['routingKey'], label: `routing key "${config.routingKey}"` }];
}
