import { describe, expect, it } from 'vitest';
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
