import { describe, expect, it } from 'vitest';
import { compilePattern, patternProblem } from './topic-pattern.js';
import { topicMatches } from './topic-filter.js';

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

  // ThingsBoard's MQTT integration documentation, "topic mapping" table: topic, filter, device name.
  const THINGSBOARD_TABLE: [string, string, string, string][] = [
    ['sensors/device1/telemetry', 'sensors/+/telemetry', '${topic[1]}', 'device1'],
    ['site/dev123/data', '+/+/data', '${topic[1]}', 'dev123'],
    ['building/floor1/room2/temp', 'building/#', '${topic[1:3]}', 'floor1-room2'],
  ];
  for (const [topic, filter, pattern, name] of THINGSBOARD_TABLE) {
    it(`maps ${topic} under ${filter} to ${name} with ${pattern}`, () => {
      expect(topicMatches(filter, topic)).toBe(true);
      expect(patternProblem(pattern, 'uplink', filter)).toBeUndefined();
      expect(compilePattern(pattern, 'p', 'uplink')({ topic })).toBe(name);
    });
  }

  it('takes ranges of levels, half-open like slice(), joined with "-" or the separator after |', () => {
    const topic = 'building/floor1/room2/temp';
    expect(compilePattern('${topic[1:]}')({ topic })).toBe('floor1-room2-temp');
    expect(compilePattern('${topic[:2]}')({ topic })).toBe('building-floor1');
    expect(compilePattern('${topic[1:-1]}')({ topic })).toBe('floor1-room2');
    expect(compilePattern('${topic[-2:]}')({ topic })).toBe('room2-temp');
    expect(compilePattern('${topic[1:3|/]}')({ topic })).toBe('floor1/room2');
    expect(compilePattern('${topic[1:3|]}')({ topic })).toBe('floor1room2');
    expect(compilePattern('${topic[1:3| · ]}')({ topic })).toBe('floor1 · room2');
    expect(compilePattern('${topic[0]}:${topic[1:3|_]}')({ topic })).toBe('building:floor1_room2');
    // A topic too short for the range has no value, like a missing level.
    expect(compilePattern('${topic[1:3]}')({ topic: 'building' })).toBeUndefined();
    expect(compilePattern('${topic[1:3]}')({ topic: 'building/floor1' })).toBe('floor1');
  });

  it('refuses unknown, garbled and out-of-range placeholders of device patterns, naming them', () => {
    expect(patternProblem('${topik[1]}', 'uplink', 'a/+')).toMatch(
      /^expected the placeholders of a device name or type pattern: \$\{topic\}, \$\{topic\[i\]\} .*; \$\{topik\[1\]\} is none of them, received "\$\{topik\[1\]\}"$/,
    );
    expect(patternProblem('${deviceName}', 'uplink')).toMatch(/\$\{deviceName\} is none of them/);
    for (const garbled of ['${topic[1}', '${topic[1:2:3]}', '${topic[a:b]}', '${topic[ 1 ]}', '${topic[1]', 'x${']) {
      expect(patternProblem(garbled, 'uplink'), garbled).toMatch(/^expected (a topic level or range|the placeholders|placeholders written as)/);
    }
    expect(patternProblem('${topic[3]}', 'uplink', 'sensors/+/telemetry')).toBe(
      'expected levels that topics matching "sensors/+/telemetry" have (3 levels, 0 to 2): ${topic[3]} is out of range, received "${topic[3]}"',
    );
    expect(patternProblem('${topic[-4]}', 'uplink', 'sensors/+/telemetry')).toMatch(/out of range/);
    expect(patternProblem('${topic[-3]}', 'uplink', 'sensors/+/telemetry')).toBeUndefined();
    expect(patternProblem('x-${topic[3:5]}', 'uplink', '$share/g/a/+/c')).toBe(
      'expected levels that topics matching "a/+/c" have (3 levels, 0 to 2): ${topic[3:5]} is out of range, received "x-${topic[3:5]}"',
    );
    expect(patternProblem('${topic[2:1]}', 'uplink', 'building/#')).toMatch(
      /^expected levels that topics matching "building\/#" have \(at least 1 level\): \$\{topic\[2:1\]\} is out of range/,
    );
    expect(patternProblem('${topic[7]}', 'uplink', 'building/#')).toBeUndefined();
    expect(patternProblem('${topic[1:3]}', 'uplink', 'a/b')).toBeUndefined();
    // Downlink patterns take converter metadata keys, but topic levels never resolve there.
    expect(patternProblem('devices/${deviceName}/${metadata.kind}', 'downlink')).toBeUndefined();
    expect(patternProblem('${topic[1]}x${foo[1]}', 'downlink')).toMatch(/topic levels exist only in device name and type patterns/);
    expect(() => compilePattern('${topik[1]}', 'config.deviceNamePattern', 'uplink')).toThrow(/^config\.deviceNamePattern: expected the placeholders/);
  });

  it('refuses malformed placeholders with a ConfigError naming the path', () => {
    expect(() => compilePattern('${topic[x]}', 'config.deviceNamePattern')).toThrow(/config\.deviceNamePattern: expected a topic level or range/);
    expect(() => compilePattern('${}')).toThrow(/expected a name/);
    expect(() => compilePattern('a/${topic')).toThrow(/placeholders written as/);
  });
});
