import type { Metrics } from '@tbi/plugin-api';

/** Metrics kept in memory, keyed `name{labels as JSON}`, so a test can read what a plugin counted. */
export interface MemoryMetrics extends Metrics {
  readonly values: Map<string, number>;
  /** The current value of a counter or gauge (the last observation of a histogram), 0 if never set. */
  get(name: string, labels?: Record<string, string>): number;
}

/**
 * Makes a `MemoryMetrics`: counters and gauges add up, `gauge.set` and `histogram.observe` keep
 * the last value.
 *
 * @example
 * const metrics = memoryMetrics();
 * metrics.counter('tbi_x_total').inc({ result: 'ok' });
 * metrics.get('tbi_x_total', { result: 'ok' }); // 1
 */
export function memoryMetrics(): MemoryMetrics {
  const values = new Map<string, number>();
  const key = (name: string, labels?: Record<string, string>) => `${name}${JSON.stringify(labels ?? {})}`;
  const add =
    (name: string) =>
    (labels?: Record<string, string>, v = 1) =>
      void values.set(key(name, labels), (values.get(key(name, labels)) ?? 0) + v);
  return {
    values,
    get: (name, labels) => values.get(key(name, labels)) ?? 0,
    counter: (name) => ({ inc: add(name) }),
    gauge: (name) => ({ inc: add(name), dec: (l, v = 1) => add(name)(l, -v), set: (l, v) => void values.set(key(name, l), v) }),
    histogram: (name) => ({ observe: (l, v) => void values.set(key(name, l), v) }),
  };
}
