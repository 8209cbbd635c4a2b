/** One sample of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text of `/metrics` (comments skipped). */
export function parseProm(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The counters and gauges the integrations page shows, per integration. */
export interface IntegrationCounts {
  received: number;
  stored: number;
  deadLettered: number;
  failed: number;
  inFlight: number;
  /** Sum of the integration's `*_lag` gauges (Kafka consumer lag…), when it has any. */
  lag?: number;
}

const COUNTERS: Record<string, keyof IntegrationCounts> = {
  tbi_messages_received_total: 'received',
  tbi_messages_stored_total: 'stored',
  tbi_dead_letters_total: 'deadLettered',
  tbi_messages_failed_total: 'failed',
  tbi_in_flight: 'inFlight',
};

/** The per-integration counts out of `/metrics`. */
export function countsByIntegration(samples: readonly Sample[]): Map<string, IntegrationCounts> {
  const counts = new Map<string, IntegrationCounts>();
  const of = (name: string) => {
    let c = counts.get(name);
    if (!c) counts.set(name, (c = { received: 0, stored: 0, deadLettered: 0, failed: 0, inFlight: 0 }));
    return c;
  };
  for (const s of samples) {
    const integration = s.labels.integration;
    if (integration === undefined) continue;
    const key = COUNTERS[s.name];
    if (key) of(integration)[key] = (of(integration)[key] ?? 0) + s.value;
    else if (s.name.endsWith('_lag')) of(integration).lag = (of(integration).lag ?? 0) + s.value;
  }
  return counts;
}
