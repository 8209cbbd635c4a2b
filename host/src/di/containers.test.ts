import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { TOKENS, type Logger, type PlatformClient } from '@tbi/plugin-api';
import { PromMetrics } from '../metrics/prom-metrics.js';
import { createIntegrationContainer, createRootContainer, resolveIntegrationContext } from './containers.js';

const logger = (name: string): Logger => {
  const l: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => l };
  return Object.assign(l, { name });
};

describe('containers', () => {
  it('gives each integration its own config, logger, router and uplink over shared root services', async () => {
    const platform = { ingest: async () => ({ stored: 0, duplicates: 0 }), onCommand: () => () => {}, commandResult() {} } as PlatformClient;
    const sandbox = { uplink: async () => { throw new Error('unused'); }, downlink: async () => { throw new Error('unused'); } };
    const metrics = new PromMetrics({ defaultMetrics: false });
    const root = createRootContainer({ sandbox, platform, logger: logger('root'), metrics, clock: { now: () => 42 }, hostConfig: {} });
    const make = (name: string) =>
      resolveIntegrationContext(
        createIntegrationContainer(root, {
          value: { name, type: 'echo', config: { key: name }, metadata: { site: name } },
          logger: logger(name),
          router: new Hono(),
          uplink: { submit: async () => [] },
          downlinks: { take: () => undefined },
        }),
        { dataDir: `/data/${name}`, signal: new AbortController().signal },
      );
    const a = make('a');
    const b = make('b');
    expect(a.platform).toBe(platform);
    expect(b.sandbox).toBe(sandbox);
    expect(a.clock.now()).toBe(42);
    expect([a.name, a.config, a.metadata, a.dataDir]).toEqual(['a', { key: 'a' }, { site: 'a' }, '/data/a']);
    expect((a.logger as unknown as { name: string }).name).toBe('a');
    expect(a.http).not.toBe(b.http);
    expect(root.resolve(TOKENS.Logger)).not.toBe(a.logger);
    a.metrics.counter('c_total', 'C.').inc();
    b.metrics.counter('c_total', 'C.').inc();
    const { body } = await metrics.text();
    expect(body).toContain('c_total{integration="a"} 1');
    expect(body).toContain('c_total{integration="b"} 1');
  });
});
