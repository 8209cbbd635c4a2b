import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue, valueType } from './typed-value.js';

describe('typed values', () => {
  it.each([
    [true, 'BOOLEAN', true],
    [false, 'BOOLEAN', false],
    [42, 'LONG', 42],
    [-7, 'LONG', -7],
    [21.5, 'DOUBLE', 21.5],
    [2 ** 60, 'DOUBLE', 2 ** 60],
    ['on', 'STRING', 'on'],
    ['', 'STRING', ''],
    [{ a: [1, 'x'] }, 'JSON', { a: [1, 'x'] }],
    [null, 'JSON', null],
    [Number.NaN, 'JSON', null],
    [Number.POSITIVE_INFINITY, 'JSON', null],
  ])('%j is stored as %s and read back as %j', (value, type, back) => {
    const columns = encodeValue(value);
    expect(valueType(columns)).toBe(type);
    expect(Object.values(columns).filter((v) => v !== null)).toHaveLength(1);
    expect(decodeValue(columns)).toEqual(back);
  });
});
