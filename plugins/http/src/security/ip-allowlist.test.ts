import { describe, expect, it } from 'vitest';
import { ipAllowlist } from './ip-allowlist.js';

describe('ipAllowlist', () => {
  it('an empty list allows everyone', () => {
    expect(ipAllowlist([])('203.0.113.9')).toBe(true);
  });

  it('matches IPv4 addresses and ranges', () => {
    const allowed = ipAllowlist(['10.0.0.0/8', '192.168.1.7', '172.16.0.0/12']);
    expect(allowed('10.255.0.1')).toBe(true);
    expect(allowed('192.168.1.7')).toBe(true);
    expect(allowed('192.168.1.8')).toBe(false);
    expect(allowed('172.31.255.255')).toBe(true);
    expect(allowed('172.32.0.0')).toBe(false);
    expect(allowed('11.0.0.1')).toBe(false);
  });

  it('matches IPv4-mapped IPv6 clients against IPv4 ranges', () => {
    const allowed = ipAllowlist(['127.0.0.0/8']);
    expect(allowed('::ffff:127.0.0.1')).toBe(true);
    expect(allowed('::ffff:128.0.0.1')).toBe(false);
  });

  it('matches IPv6 addresses and ranges, ignoring a zone id', () => {
    const allowed = ipAllowlist(['2001:db8::/32', '::1', 'fe80::/10']);
    expect(allowed('2001:db8:1234::5')).toBe(true);
    expect(allowed('2001:db9::1')).toBe(false);
    expect(allowed('::1')).toBe(true);
    expect(allowed('0:0:0:0:0:0:0:1')).toBe(true);
    expect(allowed('fe80::1%eth0')).toBe(true);
    expect(allowed('127.0.0.1')).toBe(false);
  });

  it('a /0 range allows a whole family', () => {
    const allowed = ipAllowlist(['0.0.0.0/0']);
    expect(allowed('8.8.8.8')).toBe(true);
    expect(allowed('2001:db8::1')).toBe(false);
  });

  it('never matches something that is not an address', () => {
    expect(ipAllowlist(['0.0.0.0/0'])('unknown')).toBe(false);
    expect(ipAllowlist(['0.0.0.0/0'])('')).toBe(false);
  });

  it('rejects a bad entry when built', () => {
    expect(() => ipAllowlist(['10.0.0.300/8'])).toThrow(/not an IP address/);
  });
});
