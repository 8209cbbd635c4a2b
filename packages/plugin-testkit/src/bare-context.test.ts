import { describe, expect, it } from 'vitest';
import { bareContext } from './bare-context.js';
import { silentLogger } from './silent-logger.js';

describe('bareContext', () => {
  const uplink = { submit: async () => [], reject: async () => {} };

  it('fills what the test leaves out with inert defaults that refuse use', async () => {
    const ctx = bareContext({ type: 'demo', config: { a: 1 }, uplink, dataDir: '/tmp/demo' });
    expect(ctx.name).toBe('demo-test');
    expect(ctx.configDir).toBe('/tmp/demo');
    expect(ctx.logger).toBe(silentLogger);
    expect(ctx.signal.aborted).toBe(false);
    expect(ctx.downlinks.take('dev')).toBeUndefined();
    await expect(ctx.sandbox.uplink('c', 'return 1')).rejects.toThrow(/not part of this hand-built test context/);
    expect(await ctx.platform.getDevice('dev')).toBeUndefined();
  });

  it('keeps what the test gives', () => {
    const abort = new AbortController();
    const ctx = bareContext({ type: 'demo', name: 'mine', config: {}, uplink, dataDir: '/d', configDir: '/c', signal: abort.signal });
    expect([ctx.name, ctx.configDir, ctx.signal, ctx.uplink]).toEqual(['mine', '/c', abort.signal, uplink]);
  });
});
