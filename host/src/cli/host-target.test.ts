import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveHostTarget } from './host-target.js';

async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tbi-target-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

describe('resolveHostTarget', () => {
  it('takes flags over env over the config file over the default', async () => {
    const dir = await dirWith({ 'tbi.yaml': 'http:\n  port: 9100\nauth:\n  token: from-file\n' });
    expect(resolveHostTarget({}, {}, dir)).toMatchObject({
      url: 'http://127.0.0.1:9100',
      token: 'from-file',
      urlFrom: 'config',
      tokenFrom: 'config',
      configFile: 'tbi.yaml',
    });
    expect(resolveHostTarget({}, { TBI_URL: 'http://h:1', TBI_TOKEN: 'from-env' }, dir)).toMatchObject({
      url: 'http://h:1',
      token: 'from-env',
      urlFrom: 'env',
      tokenFrom: 'env',
    });
    expect(resolveHostTarget({ url: 'http://f:2', token: 'from-flag' }, { TBI_URL: 'http://h:1', TBI_TOKEN: 'x' }, dir)).toMatchObject({
      url: 'http://f:2',
      token: 'from-flag',
      urlFrom: 'flag',
    });
    expect(resolveHostTarget({}, { TBI_URL: '' }, await dirWith({}))).toMatchObject({
      url: 'http://127.0.0.1:8080',
      token: undefined,
      urlFrom: 'default',
      configFile: undefined,
    });
  });

  it('interpolates ${env:...} in http and auth only, and maps listen addresses to ones to connect to', async () => {
    const dir = await dirWith({
      'host.yaml':
        'http:\n  host: "::"\n  port: ${env:PORT}\n  tls: { cert: c.pem, key: k.pem }\nauth:\n  token: ${env:SECRET}\nintegrations:\n  - name: ${env:UNSET_ELSEWHERE}\n',
      'v6.yaml': 'http:\n  host: "fd00::5"\n',
      'zero.yaml': 'http:\n  port: 0\n',
    });
    expect(resolveHostTarget({ config: 'host.yaml' }, { PORT: '9443', SECRET: 's' }, dir)).toMatchObject({ url: 'https://[::1]:9443', token: 's' });
    expect(resolveHostTarget({ config: 'v6.yaml' }, {}, dir).url).toBe('http://[fd00::5]:8080');
    const zero = resolveHostTarget({ config: 'zero.yaml' }, {}, dir);
    expect(zero).toMatchObject({ url: 'http://127.0.0.1:8080', urlFrom: 'default' });
    expect(zero.note).toContain('zero.yaml sets http.port 0');
  });

  it('names the file and the variable when the config cannot be read', async () => {
    const dir = await dirWith({ 'tbi.yaml': 'auth:\n  token: ${env:NOPE}\n' });
    expect(() => resolveHostTarget({}, {}, dir)).toThrow(/tbi\.yaml:2.*auth\.token.*NOPE/);
    expect(() => resolveHostTarget({ config: 'missing.yaml' }, {}, dir)).toThrow(/missing\.yaml.*does not exist/);
  });
});
