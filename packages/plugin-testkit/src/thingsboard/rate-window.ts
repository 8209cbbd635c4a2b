/** One ThingsBoard rate limit: at most `count` in `seconds`. */
export interface RateLimit {
  count: number;
  seconds: number;
}

/** The `"10:1,300:60"` form ThingsBoard's tenant profiles and `getSessionLimits` use ("" = none). */
export function formatRateLimits(limits: readonly RateLimit[] | undefined): string {
  return (limits ?? []).map((l) => `${l.count}:${l.seconds}`).join(',');
}

/**
 * Enforces rate limits as fixed windows per limit, like the token buckets ThingsBoard builds from
 * the same strings (each bucket refills its whole capacity every period).
 */
export class FixedWindowLimiter {
  readonly #windows: Array<RateLimit & { start: number; used: number }>;

  constructor(limits: readonly RateLimit[]) {
    this.#windows = limits.map((l) => ({ ...l, start: Date.now(), used: 0 }));
  }

  /** Whether `n` more fit now in every window. */
  fits(n: number): boolean {
    const now = Date.now();
    return this.#windows.every((w) => {
      if (now - w.start >= w.seconds * 1000) {
        w.start = now;
        w.used = 0;
      }
      return w.used + n <= w.count;
    });
  }

  take(n: number): void {
    for (const w of this.#windows) w.used += n;
  }
}
