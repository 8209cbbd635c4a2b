import type { Counter, Gauge, Histogram, Labels, Metrics } from '@tbi/plugin-api';

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BY_INTEGRATION = ['integration'] as const;

/** The pipeline's Prometheus metrics, all labelled by `integration`. */
export interface PipelineMetrics {
  received: Counter;
  converted: Counter;
  stored: Counter;
  failed: Counter;
  deadLetters: Counter;
  deadLettersDropped: Counter;
  storeRetries: Counter;
  conversionSeconds: Histogram;
  storeSeconds: Histogram;
  inFlight: Gauge;
  paused: Gauge;
  downlinksSent: Counter;
  downlinksFailed: Counter;
}

/** Creates (or, since `Metrics` returns the same metric for the same name, finds) the metrics. */
export function createPipelineMetrics(metrics: Metrics): PipelineMetrics {
  const counter = (name: string, help: string): Counter => metrics.counter(name, help, BY_INTEGRATION);
  return {
    received: counter('tbi_messages_received_total', 'Messages submitted by connectors.'),
    converted: counter('tbi_messages_converted_total', 'Messages the uplink converter converted.'),
    stored: counter('tbi_messages_stored_total', 'Messages whose records the platform stored (acknowledgeable).'),
    failed: counter('tbi_messages_failed_total', 'Messages whose conversion failed (or whose records the platform rejected).'),
    deadLetters: counter('tbi_dead_letters_total', 'Messages written to the host dead-letter table.'),
    deadLettersDropped: counter('tbi_dead_letters_dropped_total', 'Oldest dead letters deleted to respect the per-integration cap.'),
    storeRetries: counter('tbi_store_retries_total', 'Failed platform ingest attempts that were retried.'),
    conversionSeconds: metrics.histogram('tbi_conversion_seconds', 'Duration of one uplink converter call (one batch).', BY_INTEGRATION, SECONDS),
    storeSeconds: metrics.histogram('tbi_store_seconds', 'Duration of one platform ingest call (one batch).', BY_INTEGRATION, SECONDS),
    inFlight: metrics.gauge('tbi_in_flight', 'Messages submitted and not yet resolved.', BY_INTEGRATION),
    paused: metrics.gauge('tbi_paused', '1 while the pipeline has paused the integration (back-pressure).', BY_INTEGRATION),
    downlinksSent: counter('tbi_downlinks_sent_total', 'Downlinks handed to a connector (sent, or queued for pull).'),
    downlinksFailed: counter('tbi_downlinks_failed_total', 'Downlinks that failed to convert or to send.'),
  };
}

export function integrationLabels(integration: string): Labels {
  return { integration };
}
