import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacVerifier, type HmacOptions } from './hmac.js';

const secret = "It's a Secret to Everybody";
const body = new TextEncoder().encode('Hello, World!');
const base: HmacOptions = { header: 'x-signature', secret, algorithm: 'sha256', encoding: 'auto', toleranceSeconds: 300 };
const sign = (text: string | Uint8Array, alg = 'sha256') => createHmac(alg, secret).update(text);
const headers = (h: Record<string, string>) => (name: string) => h[name];
const NOW = 1_700_000_000_000;

describe('hmacVerifier', () => {
  const verify = hmacVerifier(base, () => NOW);

  it('accepts the GitHub test vector in sha256=<hex> form', () => {
    // From GitHub's "Validating webhook deliveries" documentation.
    const sig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(verify(body, headers({ 'x-signature': sig }))).toMatchObject({ ok: true });
  });

  it('accepts plain hex, upper-case hex and Base64', () => {
    expect(verify(body, headers({ 'x-signature': sign(body).digest('hex') }))).toMatchObject({ ok: true });
    expect(verify(body, headers({ 'x-signature': sign(body).digest('hex').toUpperCase() }))).toMatchObject({ ok: true });
    expect(verify(body, headers({ 'x-signature': sign(body).digest('base64') }))).toMatchObject({ ok: true });
    expect(verify(body, headers({ 'x-signature': sign(body).digest('base64url') }))).toMatchObject({ ok: true });
  });

  it('refuses a missing, wrong, truncated or garbage signature', () => {
    expect(verify(body, headers({}))).toEqual({ ok: false, reason: 'missing-signature' });
    const other = createHmac('sha256', 'other').update(body).digest('hex');
    expect(verify(body, headers({ 'x-signature': other }))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(body, headers({ 'x-signature': sign(body).digest('hex').slice(2) }))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(body, headers({ 'x-signature': '!!!' }))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify(new TextEncoder().encode('Hello, World?'), headers({ 'x-signature': sign(body).digest('hex') }))).toMatchObject({ ok: false });
  });

  it('reports the same digest whatever encoding the sender chose, so a re-encoded replay is the same request', () => {
    const expected = sign(body).digest('base64');
    for (const sig of [sign(body).digest('hex'), `sha256=${sign(body).digest('hex').toUpperCase()}`, sign(body).digest('base64url')]) {
      expect(verify(body, headers({ 'x-signature': sig }))).toEqual({ ok: true, digest: expected });
    }
  });

  it('with encoding hex, Base64 is refused', () => {
    const hexOnly = hmacVerifier({ ...base, encoding: 'hex' }, () => NOW);
    expect(hexOnly(body, headers({ 'x-signature': sign(body).digest('base64') }))).toMatchObject({ ok: false });
    expect(hexOnly(body, headers({ 'x-signature': sign(body).digest('hex') }))).toMatchObject({ ok: true });
  });

  it('supports sha512', () => {
    const v = hmacVerifier({ ...base, algorithm: 'sha512' }, () => NOW);
    expect(v(body, headers({ 'x-signature': `sha512=${sign(body, 'sha512').digest('hex')}` }))).toMatchObject({ ok: true });
  });

  describe('with a timestamp header', () => {
    const timed = hmacVerifier({ ...base, timestampHeader: 'x-timestamp' }, () => NOW);
    const signed = (ts: string) => ({ 'x-timestamp': ts, 'x-signature': sign(Buffer.concat([Buffer.from(`${ts}.`), body])).digest('hex') });

    it('accepts a fresh timestamp in seconds or milliseconds', () => {
      expect(timed(body, headers(signed(String(NOW / 1000 - 60))))).toMatchObject({ ok: true });
      expect(timed(body, headers(signed(String(NOW + 60_000))))).toMatchObject({ ok: true, timestampMs: NOW + 60_000 });
    });

    it('refuses a stale or future timestamp, even correctly signed', () => {
      expect(timed(body, headers(signed(String(NOW / 1000 - 301))))).toEqual({ ok: false, reason: 'stale-timestamp' });
      expect(timed(body, headers(signed(String(NOW / 1000 + 301))))).toEqual({ ok: false, reason: 'stale-timestamp' });
    });

    it('refuses a missing or non-numeric timestamp, and a signature over the body alone', () => {
      expect(timed(body, headers({ 'x-signature': sign(body).digest('hex') }))).toEqual({ ok: false, reason: 'missing-timestamp' });
      expect(timed(body, headers({ ...signed('1'), 'x-timestamp': 'yesterday' }))).toEqual({ ok: false, reason: 'bad-timestamp' });
      const ts = String(NOW / 1000);
      expect(timed(body, headers({ 'x-timestamp': ts, 'x-signature': sign(body).digest('hex') }))).toEqual({ ok: false, reason: 'bad-signature' });
    });
  });
});
