/** The limits a ThingsBoard gateway session learns from `getSessionLimits`. */
export interface SessionLimits {
  /** Largest PUBLISH payload in bytes. */
  maxPayloadSize: number;
  /** Unacknowledged QoS 1 messages allowed. */
  maxInflightMessages: number;
  /** Per-gateway limits: `{count, seconds}` pairs, for all messages, telemetry messages and data points. */
  messages: RateLimit[];
  telemetryMessages: RateLimit[];
  telemetryDataPoints: RateLimit[];
}

/** At most `count` in `seconds`. */
export interface RateLimit {
  count: number;
  seconds: number;
}

/** What a session assumes before (or without) an answer: ThingsBoard's defaults, no rate limits. */
export const DEFAULT_LIMITS: SessionLimits = {
  maxPayloadSize: 65_536,
  maxInflightMessages: 100,
  messages: [],
  telemetryMessages: [],
  telemetryDataPoints: [],
};

/** Parses `"10:1,300:60"` (empty: none); malformed parts are ignored. */
export function parseRateLimits(text: unknown): RateLimit[] {
  if (typeof text !== 'string' || text.trim() === '') return [];
  return text.split(',').flatMap((part) => {
    const [count, seconds] = part.split(':').map((s) => Number(s.trim()));
    return count !== undefined && seconds !== undefined && count > 0 && seconds > 0 ? [{ count, seconds }] : [];
  });
}

/**
 * Reads the `getSessionLimits` reply (ThingsBoard `MqttTransportHandler`). The gateway's own
 * limits are `gatewayRateLimits` (`rateLimits` are those of each device behind it); a missing
 * field keeps the default.
 */
export function parseSessionLimits(reply: unknown): SessionLimits {
  const r = (typeof reply === 'object' && reply !== null ? reply : {}) as Record<string, unknown>;
  // Servers before gateway limits existed answer only `rateLimits` (older ones `rateLimit`, the
  // key the official Python client of that time read): then those bind the whole session.
  const pick = (v: unknown) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined);
  const gw = pick(r.gatewayRateLimits) ?? pick(r.rateLimits) ?? pick(r.rateLimit) ?? {};
  const positive = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback);
  return {
    maxPayloadSize: positive(r.maxPayloadSize, DEFAULT_LIMITS.maxPayloadSize),
    maxInflightMessages: positive(r.maxInflightMessages, DEFAULT_LIMITS.maxInflightMessages),
    messages: parseRateLimits(gw.messages),
    telemetryMessages: parseRateLimits(gw.telemetryMessages),
    telemetryDataPoints: parseRateLimits(gw.telemetryDataPoints),
  };
}

/**
 * Token buckets at a fraction of each rate limit (the official Python client uses 80 %): each
 * holds `fraction × count` and refills at that many per `seconds`.
 */
export class Pacer {
  readonly #buckets: Array<{ capacity: number; perMs: number; tokens: number; at: number }>;

  constructor(limits: readonly RateLimit[], fraction: number, now = Date.now()) {
    this.#buckets = limits.map((l) => {
      const capacity = Math.max(1, Math.floor(l.count * fraction));
      return { capacity, perMs: capacity / (l.seconds * 1000), tokens: capacity, at: now };
    });
  }

  /** How long to wait before `n` fit (0: now), without taking them. */
  delay(n: number, now = Date.now()): number {
    let wait = 0;
    for (const b of this.#buckets) {
      b.tokens = Math.min(b.capacity, b.tokens + (now - b.at) * b.perMs);
      b.at = now;
      const need = Math.min(n, b.capacity);
      if (b.tokens < need) wait = Math.max(wait, Math.ceil((need - b.tokens) / b.perMs));
    }
    return wait;
  }

  /** Takes `n` (after `delay` said 0). */
  consume(n: number): void {
    for (const b of this.#buckets) b.tokens -= Math.min(n, b.capacity);
  }

  /** `delay`, and takes them when they fit now. */
  take(n: number, now = Date.now()): number {
    const wait = this.delay(n, now);
    if (wait === 0) this.consume(n);
    return wait;
  }
}
