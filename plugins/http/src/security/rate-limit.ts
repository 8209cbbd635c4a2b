/** Settings of a token bucket. */
export interface RateLimitOptions {
  requestsPerSecond: number;
  /** Bucket size; defaults to one second's worth of requests (at least 1). */
  burst?: number | undefined;
}

/** `ok`, or how long until a request would be allowed (for `Retry-After`). */
export type RateVerdict = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * A token bucket: `requestsPerSecond` on average, up to `burst` at once. One bucket per
 * integration instance (the issue asks for a per-integration limit; a per-sender limit belongs
 * in a reverse proxy that knows the real client).
 *
 * @example
 * const take = rateLimiter({ requestsPerSecond: 10 }, Date.now);
 * take(); // { ok: true } until the bucket is empty
 */
export function rateLimiter(options: RateLimitOptions, now: () => number): () => RateVerdict {
  const rate = options.requestsPerSecond / 1000; // tokens per ms
  const capacity = options.burst ?? Math.max(1, Math.ceil(options.requestsPerSecond));
  let tokens = capacity;
  let last = now();
  return () => {
    const t = now();
    tokens = Math.min(capacity, tokens + Math.max(0, t - last) * rate);
    last = t;
    if (tokens >= 1) {
      tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - tokens) / rate) };
  };
}
