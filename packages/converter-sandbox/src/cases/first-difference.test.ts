import { describe, expect, it } from 'vitest';
import { firstDifference } from './first-difference.js';

describe('firstDifference', () => {
  it('is undefined for equal JSON values, whatever the key order', () => {
    expect(firstDifference({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBeUndefined();
  });

  it('names the first differing path', () => {
    expect(firstDifference([{ telemetry: [{ values: { t: 21.5 } }] }], [{ telemetry: [{ values: { t: 21 } }] }])).toBe(
      '[0].telemetry[0].values.t: expected number 21.5, got number 21',
    );
    expect(firstDifference({ a: 1 }, { a: 1, b: 2 })).toBe('b: not expected, got number 2');
    expect(firstDifference({ a: 1, b: 2 }, { a: 1 })).toBe('b: missing (expected number 2)');
    expect(firstDifference([1, 2], [1])).toBe('expected 2 items, got 1');
    expect(firstDifference({ a: [1] }, { a: { 0: 1 } })).toBe('a: expected an array of 1, got an object');
  });
});
