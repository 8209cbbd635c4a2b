import { describe, expect, it } from 'vitest';
import { coerceBoolean, coerceNumber } from './config-coercion.js';

describe('config coercion', () => {
  it('turns numeric strings from ${env:…} into numbers and leaves the rest for the schema', () => {
    expect(['8883', ' 1.5 ', '-3', '1e3', '.5'].map(coerceNumber)).toEqual([8883, 1.5, -3, 1000, 0.5]);
    expect(['', 'abc', '12px', '0x10'].map(coerceNumber)).toEqual(['', 'abc', '12px', '0x10']);
    expect([7, true, undefined, null].map(coerceNumber)).toEqual([7, true, undefined, null]);
  });

  it('turns "true"/"false" into booleans and nothing else', () => {
    expect(['true', ' FALSE ', 'False'].map(coerceBoolean)).toEqual([true, false, false]);
    expect(['1', 'yes', '', 'on'].map(coerceBoolean)).toEqual(['1', 'yes', '', 'on']);
    expect([true, 0, undefined].map(coerceBoolean)).toEqual([true, 0, undefined]);
  });
});
