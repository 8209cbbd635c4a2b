import { describe, expect, it } from 'vitest';
import { outOfDeviceOrder } from './export-order.js';

describe('outOfDeviceOrder', () => {
  it('accepts each device in order with repeats going back, and names a skip or a swap', () => {
    const d = (device: string, n: number) => ({ device, n });
    expect(outOfDeviceOrder([d('dev-0', 0), d('dev-1', 1), d('dev-0', 2), d('dev-0', 0), d('dev-0', 2), d('dev-0', 4)], 2)).toEqual([]);
    expect(outOfDeviceOrder([d('dev-1', 1), d('dev-1', 5)], 2)).toEqual(['dev-1: 5 after 1']);
    expect(outOfDeviceOrder([d('m-dev-3', 5)], 2)).toEqual(['m-dev-3: 5 after -1']);
  });
});
