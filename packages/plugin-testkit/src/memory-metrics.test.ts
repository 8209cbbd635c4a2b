import { describe, expect, it } from 'vitest';
import { memoryMetrics } from './memory-metrics.js';

describe('memoryMetrics', () => {
  it('adds counters and gauges per name and labels, and keeps the last set or observed value', () => {
    const m = memoryMetrics();
    m.counter('hits', 'requests').inc({ result: 'ok' });
    m.counter('hits', 'requests').inc({ result: 'ok' }, 2);
    m.counter('hits', 'requests').inc();
    m.gauge('depth', 'queued').inc(undefined, 5);
    m.gauge('depth', 'queued').dec(undefined, 2);
    m.gauge('level', 'fill').set({ q: 'a' }, 7);
    m.histogram('latency', 'ms').observe({}, 12);
    expect(m.get('hits', { result: 'ok' })).toBe(3);
    expect(m.get('hits')).toBe(1);
    expect(m.get('depth')).toBe(3);
    expect(m.get('level', { q: 'a' })).toBe(7);
    expect(m.get('latency')).toBe(12);
    expect(m.get('never')).toBe(0);
  });
});
