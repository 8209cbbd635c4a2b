import { describe, expect, it } from 'vitest';
import { compilePattern } from './topic-pattern.js';

describe('compilePattern', () => {
  it('takes topic levels by index, from the end with negative indexes', () => {
    const topic = 'sensors/device1/telemetry';
    expect(compilePattern('${topic[1]}')({ topic })).toBe('device1');
    expect(compilePattern('${topic[0]}-${topic[-1]}')({ topic })).toBe('sensors-telemetry');
    expect(compilePattern('${topic}')({ topic })).toBe(topic);
    expect(compilePattern('plain')({ topic })).toBe('plain');
  });

  it('gives undefined when a placeholder has no value', () => {
    expect(compilePattern('${topic[5]}')({ topic: 'a/b' })).toBeUndefined();
    expect(compilePattern('${topic[1]}')({ topic: 'a//c' })).toBeUndefined();
    expect(compilePattern('x/${deviceName}')({ values: {} })).toBeUndefined();
  });

  it('looks up other names, with or without the metadata. prefix', () => {
    const render = compilePattern('devices/${deviceName}/${metadata.kind}');
    expect(render({ values: { deviceName: 'd 1', kind: 'led' } })).toBe('devices/d 1/led');
  });

  it('refuses malformed placeholders with a ConfigError naming the path', () => {
    expect(() => compilePattern('${topic[x]}', 'config.deviceNamePattern')).toThrow(/config\.deviceNamePattern: expected a topic level/);
    expect(() => compilePattern('${}')).toThrow(/expected a name/);
    expect(() => compilePattern('a/${topic')).toThrow(/placeholders written as/);
  });
});
