import { describe, expect, it } from 'vitest';
import { isTbiError } from '@tbi/plugin-api';
import { PromMetrics, scopedMetrics } from './prom-metrics.js';

describe('PromMetrics', () => {
  it('returns the same metric for the same name and adds the integration label for scoped metrics', async () => {
    const metrics = new PromMetrics({ defaultMetrics: false });
    const a = scopedMetrics(metrics, 'mqtt-a');
    const b = scopedMetrics(metrics, 'mqtt-b');
    a.counter('msgs_total', 'Messages.', ['topic']).inc({ topic: 't' });
    b.counter('msgs_total', 'Messages.', ['topic']).inc({ topic: 't' }, 2);
    a.counter('msgs_total', 'Messages.', ['topic']).inc({ topic: 't' });
    a.histogram('latency_seconds', 'Latency.', [], [0.1, 1]).observe({}, 0.5);
    const { body, contentType } = await metrics.text();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toContain('msgs_total{topic="t",integration="mqtt-a"} 2');
    expect(body).toContain('msgs_total{topic="t",integration="mqtt-b"} 2');
    expect(body).toContain('latency_seconds_bucket{le="1",integration="mqtt-a"} 1');
  });

  it('refuses one name with another kind or other labels', () => {
    const metrics = new PromMetrics({ defaultMetrics: false });
    metrics.counter('x_total', 'X.', ['a']);
    const error = (() => {
      try {
        metrics.gauge('x_total', 'X.', ['a']);
      } catch (e) {
        return e;
      }
    })();
    expect(isTbiError(error) && error.code).toBe('METRIC_CONFLICT');
    expect(() => metrics.counter('x_total', 'X.', ['b'])).toThrow(/labels \[a\]/);
  });
});
