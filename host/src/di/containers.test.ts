import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { TOKENS, type Converter, type ConverterSandbox, type Logger, type PlatformClient, type PlatformCommand } from '@tbi/plugin-api';
import { PromMetrics } from '../metrics/prom-metrics.js';
import { createIntegrationContainer, createRootContainer, resolveIntegrationContext } from './containers.js';

const logger = (name: string): Logger => {
  const l: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => l };
  return Object.assign(l, { name });
};

function fakes() {
  const handlers = new Set<(c: PlatformCommand) => void>();
  const ingested: unknown[] = [];
  const platform = {
    ingest: async (items: unknown[]) => {
      ingested.push(...items);
      return { stored: items.length, duplicates: 0 };
    },
    onCommand: (h: (c: PlatformCommand) => void) => {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    commandResult() {},
    getDevice: (name: string) =>
      name === 'd1' ? { name, entityType: 'DEVICE', type: 't', integration: 'a', lastSeen: 5, customerName: 'secret', createdTime: 1 } : undefined,
  } as unknown as PlatformClient;
  const compiled: Array<{ name: string; disposed: boolean }> = [];
  const converter = (name: string): Converter<never, never> => {
    const entry = { name, disposed: false };
    compiled.push(entry);
    return {
      name,
      version: 1,
      run: async () => [],
      replace: async () => {},
      dispose: async () => {
        entry.disposed = true;
      },
    };
  };
  const sandbox: ConverterSandbox = { uplink: async (name) => converter(name) as never, downlink: async (name) => converter(name) as never };
  return { platform, sandbox, handlers, ingested, compiled };
}

describe('containers', () => {
  it('gives each integration its own config, logger, router and uplink over shared root services', async () => {
    const { platform, sandbox } = fakes();
    const metrics = new PromMetrics({ defaultMetrics: false });
    const root = createRootContainer({ sandbox, platform, logger: logger('root'), metrics, clock: { now: () => 42 } });
    const make = (name: string) =>
      resolveIntegrationContext(
        createIntegrationContainer(root, {
          value: { name, type: 'echo', config: { key: name }, metadata: { site: name } },
          logger: logger(name),
          router: new Hono(),
          uplink: { submit: async () => [], reject: async () => {} },
          downlinks: { take: () => undefined },
        }),
        { dataDir: `/data/${name}`, configDir: '/etc/tbi', signal: new AbortController().signal },
      );
    const a = make('a');
    const b = make('b');
    expect(a.clock.now()).toBe(42);
    expect([a.name, a.config, a.metadata, a.dataDir, a.configDir]).toEqual(['a', { key: 'a' }, { site: 'a' }, '/data/a', '/etc/tbi']);
    expect((a.logger as unknown as { name: string }).name).toBe('a');
    expect(a.http).not.toBe(b.http);
    expect(a.platform).not.toBe(b.platform);
    expect(root.resolve(TOKENS.Logger)).not.toBe(a.logger);
    a.metrics.counter('c_total', 'C.').inc();
    b.metrics.counter('c_total', 'C.').inc();
    const { body } = await metrics.text();
    expect(body).toContain('c_total{integration="a"} 1');
    expect(body).toContain('c_total{integration="b"} 1');
  });

  it('hands a plugin no way to write to the platform, and ends its subscriptions and converters when it stops', async () => {
    const { platform, sandbox, handlers, compiled } = fakes();
    const root = createRootContainer({
      sandbox,
      platform,
      logger: logger('root'),
      metrics: new PromMetrics({ defaultMetrics: false }),
      clock: { now: () => 0 },
    });
    const abort = new AbortController();
    const ctx = resolveIntegrationContext(
      createIntegrationContainer(root, {
        value: { name: 'a', type: 'echo', config: {}, metadata: {} },
        logger: logger('a'),
        router: new Hono(),
        uplink: { submit: async () => [], reject: async () => {} },
        downlinks: { take: () => undefined },
      }),
      { dataDir: '/d', configDir: '/c', signal: abort.signal },
    );
    expect(ctx.platform).not.toBe(platform);
    expect('ingest' in ctx.platform).toBe(false);
    expect('commandResult' in ctx.platform).toBe(false);
    expect(await ctx.platform.getDevice('d1')).toEqual({ name: 'd1', entityType: 'DEVICE', type: 't', integration: 'a', lastSeen: 5 });
    expect(await ctx.platform.getDevice('nope')).toBeUndefined();
    await expect(ctx.platform.latestTelemetry('d1')).rejects.toThrow(/does not offer latestTelemetry/);
    const seen: string[] = [];
    ctx.platform.onCommand((c) => seen.push(c.id));
    const converter = await ctx.sandbox.uplink('probe', 'return []');
    expect(converter.name).toBe('a/plugin/probe');
    expect(handlers.size).toBe(1);
    abort.abort();
    expect(handlers.size).toBe(0);
    expect(compiled).toEqual([{ name: 'a/plugin/probe', disposed: true }]);
  });
});
