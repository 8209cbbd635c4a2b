import { describe, expect, it } from 'vitest';
import { isValidFilter, stripShare, topicMatches } from './topic-filter.js';

describe('topic filters', () => {
  it('match like a broker: + is one level, # the rest, $ topics need an explicit first level', () => {
    expect(topicMatches('sensors/+/telemetry', 'sensors/d1/telemetry')).toBe(true);
    expect(topicMatches('sensors/+/telemetry', 'sensors/d1/x/telemetry')).toBe(false);
    expect(topicMatches('sensors/#', 'sensors')).toBe(true);
    expect(topicMatches('sensors/#', 'sensors/a/b')).toBe(true);
    expect(topicMatches('#', '$SYS/broker')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/broker')).toBe(true);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
  });

  it('validate wildcards and shared-subscription prefixes', () => {
    expect(isValidFilter('a/+/b/#')).toBe(true);
    expect(isValidFilter('a/b+')).toBe(false);
    expect(isValidFilter('a/#/b')).toBe(false);
    expect(isValidFilter('$share/g/a/#')).toBe(true);
    expect(isValidFilter('$share/g')).toBe(false);
    expect(stripShare('$share/group/a/b')).toBe('a/b');
    expect(stripShare('a/b')).toBe('a/b');
  });
});
