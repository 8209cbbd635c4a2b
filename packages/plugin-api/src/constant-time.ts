import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets (tokens, signatures) in time that depends on neither their content nor
 * their lengths: both are hashed with SHA-256 first, because `timingSafeEqual` alone throws on a
 * length mismatch, which would leak the expected length.
 *
 * @example
 * if (!constantTimeEqual(given, config.secret)) return new Response(null, { status: 401 });
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
