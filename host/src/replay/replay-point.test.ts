import { describe, expect, it } from 'vitest';
import { parseReplayPoint } from './replay-point.js';

describe('parseReplayPoint', () => {
  it('reads ISO times as times and anything else as an offset', () => {
    expect(parseReplayPoint('2026-12-01T10:00:00Z', 'from')).toEqual({ time: Date.UTC(2026, 11, 1, 10) });
    expect(parseReplayPoint('2026-12-01', 'from')).toEqual({ time: Date.UTC(2026, 11, 1) });
    expect(parseReplayPoint('2026-12-01T10:00:00+01:00', 'to')).toEqual({ time: Date.UTC(2026, 11, 1, 9) });
    expect(parseReplayPoint('1200', 'from')).toEqual({ offset: '1200' });
    expect(parseReplayPoint(' 0:1200,1:900 ', 'from')).toEqual({ offset: '0:1200,1:900' });
    expect(parseReplayPoint({ time: 5 }, 'from')).toEqual({ time: 5 });
    expect(parseReplayPoint({ time: '2026-12-01T00:00:00Z' }, 'from')).toEqual({ time: Date.UTC(2026, 11, 1) });
    expect(parseReplayPoint({ offset: 'CAEQAA' }, 'from')).toEqual({ offset: 'CAEQAA' });
  });

  it('names the field and what it expected', () => {
    expect(() => parseReplayPoint('', 'from')).toThrow('from: expected an ISO 8601 time or an offset, received an empty string');
    expect(() => parseReplayPoint('2026-13-45T99:00:00Z', 'to')).toThrow(/^to: expected a valid ISO 8601 time/);
    expect(() => parseReplayPoint({ time: -1 }, 'from')).toThrow(/^from: expected an ISO 8601 time/);
    expect(() => parseReplayPoint(42, 'from')).toThrow(/received 42/);
  });
});
