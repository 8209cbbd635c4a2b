/** Per-integration message counts, as the pipeline's counters show them on `/metrics`. */
export interface MessageCounts {
  received: number;
  stored: number;
  failed: number;
  deadLetters: number;
}

const COUNTERS: Record<string, keyof MessageCounts> = {
  tbi_messages_received_total: 'received',
  tbi_messages_stored_total: 'stored',
  tbi_messages_failed_total: 'failed',
  tbi_dead_letters_total: 'deadLetters',
};

// `name{...,integration="x",...} value`; label values escape `\`, `"` and newline.
const SAMPLE = /^([a-z_]+)\{(.*)\}\s+(\S+)$/;
const INTEGRATION_LABEL = /(?:^|,)integration="((?:[^"\\]|\\.)*)"/;

/**
 * Reads the pipeline's message counters per integration from a Prometheus text exposition.
 *
 * @example
 * messageCounts('tbi_messages_stored_total{integration="a"} 3').get('a')?.stored // 3
 */
export function messageCounts(exposition: string): Map<string, MessageCounts> {
  const counts = new Map<string, MessageCounts>();
  for (const line of exposition.split('\n')) {
    const sample = SAMPLE.exec(line);
    const field = sample && COUNTERS[sample[1]!];
    if (!sample || !field) continue;
    const label = INTEGRATION_LABEL.exec(sample[2]!);
    if (!label) continue;
    const name = label[1]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const entry = counts.get(name) ?? { received: 0, stored: 0, failed: 0, deadLetters: 0 };
    entry[field] += Number(sample[3]);
    counts.set(name, entry);
  }
  return counts;
}
