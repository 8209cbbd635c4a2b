import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from './constant-time.js';
import { headersFilter } from './headers-filter.js';

const from = (headers: Record<string, string>) => (name: string) => headers[name];

describe('headersFilter', () => {
  it('passes when every required header has its value', () => {
    const check = headersFilter({ 'x-api-key': 'k1', 'x-tenant': 't' });
    expect(check(from({ 'x-api-key': 'k1', 'x-tenant': 't', other: 'x' }))).toBe(true);
  });

  it('fails on a missing header, a wrong value or a value of another length', () => {
    const check = headersFilter({ 'x-api-key': 'k1' });
    expect(check(from({}))).toBe(false);
    expect(check(from({ 'x-api-key': 'k2' }))).toBe(false);
    expect(check(from({ 'x-api-key': 'k1k1' }))).toBe(false);
  });

  it('a header required with an empty value must still be present', () => {
    const check = headersFilter({ 'x-flag': '' });
    expect(check(from({}))).toBe(false);
    expect(check(from({ 'x-flag': '' }))).toBe(true);
  });

  it('an empty filter lets everything through', () => {
    expect(headersFilter({})(from({}))).toBe(true);
  });
});

describe('constantTimeEqual', () => {
  it('compares strings and bytes of any length', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
  });
});
