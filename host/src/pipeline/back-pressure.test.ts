import { describe, expect, it } from 'vitest';
import { BackPressure } from './back-pressure.js';

describe('BackPressure', () => {
  it('pauses at the high mark and resumes only at the low mark', () => {
    const changes: [boolean, number][] = [];
    const bp = new BackPressure(10, 5, (paused, n) => changes.push([paused, n]));
    bp.add(9);
    expect(bp.paused).toBe(false);
    bp.add(1);
    bp.add(3);
    expect(changes).toEqual([[true, 10]]);
    bp.remove(7);
    expect(bp.paused).toBe(true);
    bp.remove(1);
    expect(changes).toEqual([
      [true, 10],
      [false, 5],
    ]);
    expect(bp.inFlight).toBe(5);
  });

  it('refuses a low mark at or above the high mark', () => {
    expect(() => new BackPressure(10, 10, () => {})).toThrow(RangeError);
  });
});
