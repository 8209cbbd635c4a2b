import { describe, expect, it } from 'vitest';
import { definePlugin, isPluginDefinition, parseManifest, PLUGIN_API_VERSION, ConfigError, isTbiError } from './index.js';

const schema = { '~standard': { version: 1 as const, vendor: 'test', validate: (v: unknown) => ({ value: v }) } };

describe('definePlugin', () => {
  it('brands the definition with the contract version, checked by value', () => {
    const plugin = definePlugin({
      type: 'echo',
      configSchema: schema,
      downlink: 'none',
      create: () => ({ start: async () => {}, stop: async () => {}, health: () => ({ status: 'up' as const }) }),
    });
    expect(plugin.apiVersion).toBe(PLUGIN_API_VERSION);
    expect(isPluginDefinition({ ...plugin })).toBe(true);
    expect(isPluginDefinition({ type: 'echo', create: () => {} })).toBe(false);
  });

  it('keeps an exclusiveKeys hook, and refuses one that is not a function', () => {
    const create = () => ({ start: async () => {}, stop: async () => {}, health: () => ({ status: 'up' as const }) });
    const plugin = definePlugin<{ key: string }>({ type: 'echo', configSchema: schema as never, downlink: 'none', create, exclusiveKeys: (c) => [c.key] });
    expect(plugin.exclusiveKeys?.({ key: 'k1' })).toEqual(['k1']);
    expect(isPluginDefinition(plugin)).toBe(true);
    expect(isPluginDefinition({ ...plugin, exclusiveKeys: 'routingKey' })).toBe(false);
  });
});

describe('parseManifest', () => {
  it('accepts a complete manifest and lists every problem of a bad one', () => {
    expect(parseManifest({ tbi: { kind: 'integration', type: 'mqtt', pluginApi: '^1.0.0', entry: './dist/plugin.js' } }).ok).toBe(true);
    const bad = parseManifest({ tbi: { kind: 'x', type: 'Bad Type' } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems).toHaveLength(4);
    expect(parseManifest({ name: 'x' })).toEqual({ ok: false, problems: ['package.json has no "tbi" field'] });
  });
});

describe('errors', () => {
  it('ConfigError names file, path and what was expected', () => {
    const e = new ConfigError({ file: 'tbi.yaml', path: 'integrations[2].config.port', expected: 'an integer', received: '"abc"' });
    expect(e.message).toBe('tbi.yaml: integrations[2].config.port: expected an integer, received "abc"');
    expect(e.code).toBe('CONFIG_INVALID');
    expect(isTbiError(e)).toBe(true);
    expect(isTbiError(new Error('x'))).toBe(false);
  });
});
