import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, Pacer, parseRateLimits, parseSessionLimits } from './session-limits.js';

describe('session limits', () => {
  it('parses ThingsBoard rate limit strings', () => {
    expect(parseRateLimits('10:1,300:60')).toEqual([
      { count: 10, seconds: 1 },
      { count: 300, seconds: 60 },
    ]);
    expect(parseRateLimits('')).toEqual([]);
    expect(parseRateLimits(undefined)).toEqual([]);
    expect(parseRateLimits('x:1, 5:0, 7:2')).toEqual([{ count: 7, seconds: 2 }]);
  });

  it('reads the gateway limits of a getSessionLimits reply, falling back to the session-wide ones', () => {
    expect(
      parseSessionLimits({
        maxPayloadSize: 4096,
        maxInflightMessages: 5,
        rateLimits: { messages: '1:1' },
        gatewayRateLimits: { messages: '20:1', telemetryMessages: '10:1', telemetryDataPoints: '100:1' },
      }),
    ).toEqual({
      maxPayloadSize: 4096,
      maxInflightMessages: 5,
      messages: [{ count: 20, seconds: 1 }],
      telemetryMessages: [{ count: 10, seconds: 1 }],
      telemetryDataPoints: [{ count: 100, seconds: 1 }],
    });
    expect(parseSessionLimits({ rateLimits: { messages: '3:1' } }).messages).toEqual([{ count: 3, seconds: 1 }]);
    expect(parseSessionLimits('garbage')).toEqual(DEFAULT_LIMITS);
  });

  it('paces at a fraction of the limit: a burst of the fraction, then the refill rate', () => {
    const pacer = new Pacer([{ count: 10, seconds: 1 }], 0.8, 0);
    for (let i = 0; i < 8; i++) expect(pacer.take(1, 0)).toBe(0);
    expect(pacer.take(1, 0)).toBe(125); // 8 per second: one more after 125 ms
    expect(pacer.take(1, 125)).toBe(0);
  });
});
