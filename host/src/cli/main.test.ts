import { describe, expect, it } from 'vitest';
import { ConfigError, PLUGIN_API_VERSION } from '@tbi/plugin-api';
import { hostVersion } from '../host-version.js';
import { main } from './main.js';
import { reportError } from './report-error.js';

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(['node', 'tbi', ...args], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('main', () => {
  it('prints the version and help with exit 0, and a usage mistake with exit 1', async () => {
    expect(await run('--version')).toEqual({ code: 0, out: `${hostVersion()} (plugin API ${PLUGIN_API_VERSION})\n`, err: '' });
    const help = await run('validate', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: tbi validate [options]');
    const bad = await run('start', '--port', 'eighty');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("error: option '-p, --port <port>' argument 'eighty' is invalid. expected a port number from 0 to 65535");
  });

  it('reports a missing default config file as one line', async () => {
    const result = await run('validate');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^tbi: no config file: found none of tbi\.yaml, tbi\.yml, tbi\.json in .*; pass one with --config <file>\.\n$/);
  });
});

describe('reportError', () => {
  it('prints a user mistake as one paragraph and a bug with its stack and a request to report it', () => {
    let text = '';
    expect(reportError(new ConfigError({ file: 'tbi.yaml:3', path: 'http.port', expected: 'a port' }), (t) => (text += t))).toBe(1);
    expect(text).toBe('tbi: tbi.yaml:3: http.port: expected a port\n');
    text = '';
    expect(reportError(new TypeError('x is undefined'), (t) => (text += t))).toBe(70);
    expect(text).toContain('please report it');
    expect(text).toContain('TypeError: x is undefined\n    at ');
  });
});
