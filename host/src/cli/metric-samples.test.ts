import { describe, expect, it } from 'vitest';
import { messageCounts } from './metric-samples.js';

describe('messageCounts', () => {
  it('reads the pipeline counters per integration and ignores everything else', () => {
    const text = [
      '# HELP tbi_messages_received_total Messages submitted by connectors.',
      '# TYPE tbi_messages_received_total counter',
      'tbi_messages_received_total{integration="a"} 5',
      'tbi_messages_received_total{integration="we\\"ird"} 1',
      'tbi_messages_stored_total{integration="a"} 4',
      'tbi_messages_failed_total{integration="a"} 1',
      'tbi_dead_letters_total{integration="a"} 1',
      'tbi_conversion_seconds_bucket{integration="a",le="0.1"} 9',
      'process_cpu_seconds_total 1.5',
    ].join('\n');
    const counts = messageCounts(text);
    expect(counts.get('a')).toEqual({ received: 5, stored: 4, failed: 1, deadLetters: 1 });
    expect(counts.get('we"ird')).toEqual({ received: 1, stored: 0, failed: 0, deadLetters: 0 });
    expect(counts.size).toBe(2);
  });
});
