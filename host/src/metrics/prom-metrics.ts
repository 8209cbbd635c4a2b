import { collectDefaultMetrics, Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, Registry } from 'prom-client';
import { TbiError, type Counter, type Gauge, type Histogram, type Labels, type Metrics } from '@tbi/plugin-api';

type AnyMetric = PromCounter | PromGauge | PromHistogram;

/**
 * The plugin-API `Metrics` on a prom-client registry of its own (so two hosts in one process do
 * not share metrics). Asking twice for one name returns the same metric; asking for one name with
 * another kind or other labels is a `TbiError` (METRIC_CONFLICT), as Prometheus would reject it.
 */
export class PromMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, { kind: string; labels: string; metric: AnyMetric }>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    const metric = this.get('counter', name, labelNames, () => new PromCounter({ name, help, labelNames, registers: [this.registry] }));
    return {
      inc: (labels = {}, value = 1) => metric.inc(labels, value),
    };
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    const metric = this.get('gauge', name, labelNames, () => new PromGauge({ name, help, labelNames, registers: [this.registry] }));
    return {
      set: (labels, value) => metric.set(labels, value),
      inc: (labels = {}, value = 1) => metric.inc(labels, value),
      dec: (labels = {}, value = 1) => metric.dec(labels, value),
    };
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): Histogram {
    const metric = this.get(
      'histogram',
      name,
      labelNames,
      () => new PromHistogram({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets: [...buckets] } : {}) }),
    );
    return { observe: (labels, value) => metric.observe(labels, value) };
  }

  /** Prometheus text exposition of every metric. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private get<M extends AnyMetric>(kind: string, name: string, labelNames: readonly string[], make: () => M): M {
    const labels = [...labelNames].sort().join(',');
    const known = this.metrics.get(name);
    if (known) {
      if (known.kind !== kind || known.labels !== labels) {
        throw new TbiError(
          'METRIC_CONFLICT',
          `metric ${name} exists as a ${known.kind} with labels [${known.labels}]; asked for a ${kind} with labels [${labels}]`,
          {
            context: { metric: name },
          },
        );
      }
      return known.metric as M;
    }
    const metric = make();
    this.metrics.set(name, { kind, labels, metric });
    return metric;
  }
}

/**
 * The `Metrics` an integration receives: every metric it makes gets an `integration` label with
 * its name, so two instances of one plugin report separately.
 */
export function scopedMetrics(root: Metrics, integration: string): Metrics {
  const add = (labels: Labels | undefined): Labels => ({ ...labels, integration });
  const withLabel = (names: readonly string[]) => (names.includes('integration') ? names : [...names, 'integration']);
  return {
    counter(name, help, labelNames = []) {
      const c = root.counter(name, help, withLabel(labelNames));
      return { inc: (labels, value) => c.inc(add(labels), value) };
    },
    gauge(name, help, labelNames = []) {
      const g = root.gauge(name, help, withLabel(labelNames));
      return {
        set: (labels, value) => g.set(add(labels), value),
        inc: (labels, value) => g.inc(add(labels), value),
        dec: (labels, value) => g.dec(add(labels), value),
      };
    },
    histogram(name, help, labelNames = [], buckets) {
      const h = root.histogram(name, help, withLabel(labelNames), buckets);
      return { observe: (labels, value) => h.observe(add(labels), value) };
    },
  };
}
