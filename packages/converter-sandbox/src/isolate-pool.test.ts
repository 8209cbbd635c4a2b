import { describe, expect, it } from 'vitest';
import { MESSAGES_PER_PART, MIN_MESSAGES_PER_SPLIT, partCount } from './isolate-pool.js';

describe('partCount', () => {
  it('cuts large batches into parts of about MESSAGES_PER_PART, at least one per isolate, when there are cores to overlap', () => {
    expect(partCount(10 * MESSAGES_PER_PART, 1, true)).toBe(10);
    expect(partCount(2 * MESSAGES_PER_PART, 1, true)).toBe(2);
    expect(partCount(2 * MESSAGES_PER_PART, 2, true)).toBe(2);
    expect(partCount(MESSAGES_PER_PART, 4, true)).toBe(4);
  });

  it('never makes parts smaller than MIN_MESSAGES_PER_SPLIT', () => {
    expect(partCount(MIN_MESSAGES_PER_SPLIT - 1, 2, true)).toBe(1);
    expect(partCount(2 * MIN_MESSAGES_PER_SPLIT, 8, true)).toBe(2);
    expect(partCount(1, 1, true)).toBe(1);
  });

  it('on one core, only splits across isolates', () => {
    expect(partCount(10 * MESSAGES_PER_PART, 1, false)).toBe(1);
    expect(partCount(10 * MESSAGES_PER_PART, 2, false)).toBe(2);
  });
});
