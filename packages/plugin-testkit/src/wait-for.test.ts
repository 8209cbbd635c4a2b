import { describe, expect, it } from 'vitest';
import { eventually, waitFor } from './wait-for.js';
import { uniqueName } from './unique-name.js';

describe('eventually and waitFor', () => {
  it('eventually answers true once the condition holds, false after the timeout', async () => {
    let n = 0;
    expect(await eventually(() => ++n >= 3, 1_000, 5)).toBe(true);
    expect(await eventually(() => false, 50, 5)).toBe(false);
  });

  it('waitFor rejects naming what it waited for', async () => {
    await expect(waitFor(() => false, 'the moon', 30, 5)).rejects.toThrow(/until the moon/);
  });
});

describe('uniqueName', () => {
  it('keeps the prefix and differs on every call', () => {
    const a = uniqueName('orders');
    expect(a).toMatch(/^orders-[0-9a-f]{8}$/);
    expect(uniqueName('orders')).not.toBe(a);
    expect(uniqueName('tbi-test/x', '/')).toMatch(/^tbi-test\/x\/[0-9a-f]{8}$/);
  });
});
