import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from './did-you-mean.js';

describe('didYouMean', () => {
  it('finds a typo, a swap, a longer or shorter form, and nothing for an unrelated key', () => {
    expect(didYouMean('logging', ['http', 'log', 'plugins'])).toBe('log');
    expect(didYouMean('bootstrapServer', ['bootstrapServers', 'uplink'])).toBe('bootstrapServers');
    expect(didYouMean('prot', ['host', 'port'])).toBe('port');
    expect(didYouMean('ROUTINGKEY', ['routingKey'])).toBe('routingKey');
    expect(didYouMean('colour', ['name', 'type', 'config'])).toBeUndefined();
  });

  it('counts a swap of two letters as one edit', () => {
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
