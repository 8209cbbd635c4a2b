import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import { createRedactor, redactTree } from './redact.js';

describe('createRedactor', () => {
  it('masks secrets in raw and JSON-escaped form, longest first, but not ports or tiny values', () => {
    const redact = createRedactor(['pa"ss-word', 'pa"ss-word-longer', '8080', 'ab', 'true']);
    expect(redact('a pa"ss-word-longer b pa"ss-word')).toBe('a [redacted] b [redacted]');
    expect(redact(JSON.stringify({ p: 'pa"ss-word' }))).toBe('{"p":"[redacted]"}');
    expect(redact('http://localhost:8080 ab true')).toBe('http://localhost:8080 ab true');
  });

  it('masks a whole config tree', () => {
    expect(redactTree({ a: ['x-secret-x', 1], b: { c: 'fine' } }, createRedactor(['secret']))).toEqual({ a: ['x-[redacted]-x', 1], b: { c: 'fine' } });
  });

  it('keeps secrets out of every log line, wherever a plugin puts them', () => {
    const log = memoryLogger(createRedactor(['s3cr3t-token']));
    log.logger.info({ config: { url: 'mqtt://user:s3cr3t-token@broker' } }, 'connecting with s3cr3t-token');
    expect(log.text()).not.toContain('s3cr3t-token');
    expect(log.lines()[0]).toMatchObject({ msg: 'connecting with [redacted]', config: { url: 'mqtt://user:[redacted]@broker' } });
  });
});
