import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '@tbi/plugin-api';

/** Settings of an HMAC signature check (see `HttpConfig.hmac`). */
export interface HmacOptions {
  header: string;
  secret: string;
  algorithm: 'sha256' | 'sha512' | 'sha1';
  encoding: 'auto' | 'hex' | 'base64';
  timestampHeader?: string | undefined;
  toleranceSeconds: number;
}

/** Why a signature was refused; `ok` when it matched. */
export type HmacVerdict =
  | {
      ok: true;
      /** The expected MAC in Base64: one value per signed text, whatever encoding the sender used (the replay guard's key). */
      digest: string;
      /** The sender's timestamp in ms, with a `timestampHeader`. */
      timestampMs?: number;
    }
  | { ok: false; reason: 'missing-signature' | 'bad-signature' | 'missing-timestamp' | 'bad-timestamp' | 'stale-timestamp' };

const DIGEST_BYTES = { sha1: 20, sha256: 32, sha512: 64 } as const;

/**
 * Makes a verifier of webhook signatures over the raw body.
 *
 * Accepted forms of the signature header (with `encoding: 'auto'`): `sha256=<hex>` as GitHub
 * sends it, plain hex, and Base64 (Shopify and others). With a `timestampHeader`, the signed text
 * is `<timestamp>.<body>` (the Stripe scheme) and a timestamp (epoch seconds or milliseconds)
 * further than `toleranceSeconds` from now is refused, so a captured request cannot be replayed
 * later.
 *
 * @example
 * const verify = hmacVerifier({ header: 'x-hub-signature-256', secret, algorithm: 'sha256', encoding: 'auto', toleranceSeconds: 300 }, Date.now);
 * verify(body, (name) => req.header(name)); // { ok: true } or { ok: false, reason }
 */
export function hmacVerifier(options: HmacOptions, now: () => number): (body: Uint8Array, header: (name: string) => string | undefined) => HmacVerdict {
  const size = DIGEST_BYTES[options.algorithm];
  return (body, header) => {
    const raw = header(options.header)?.trim();
    if (!raw) return { ok: false, reason: 'missing-signature' };
    const mac = createHmac(options.algorithm, options.secret);
    let timestampMs: number | undefined;
    if (options.timestampHeader !== undefined) {
      const stamp = header(options.timestampHeader)?.trim();
      if (!stamp) return { ok: false, reason: 'missing-timestamp' };
      if (!/^\d{1,16}$/.test(stamp)) return { ok: false, reason: 'bad-timestamp' };
      const value = Number(stamp);
      // Ten or fewer digits is seconds (until the year 2286); more is milliseconds.
      const ms = stamp.length > 11 ? value : value * 1000;
      if (Math.abs(now() - ms) > options.toleranceSeconds * 1000) return { ok: false, reason: 'stale-timestamp' };
      timestampMs = ms;
      mac.update(`${stamp}.`);
    }
    const expected = mac.update(body).digest();
    const given = decodeSignature(raw, options, size);
    if (given === undefined || given.length !== expected.length) return { ok: false, reason: 'bad-signature' };
    if (!constantTimeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
    const digest = expected.toString('base64');
    return timestampMs === undefined ? { ok: true, digest } : { ok: true, digest, timestampMs };
  };
}

function decodeSignature(raw: string, options: HmacOptions, size: number): Buffer | undefined {
  const prefix = `${options.algorithm}=`;
  const value = raw.toLowerCase().startsWith(prefix) ? raw.slice(prefix.length) : raw;
  const isHex = value.length === size * 2 && /^[0-9a-fA-F]+$/.test(value);
  if (options.encoding === 'hex' || (options.encoding === 'auto' && isHex)) {
    return isHex ? Buffer.from(value, 'hex') : undefined;
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
}
