import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tbi/plugin-api';
import { InvalidConfigError } from './config-problems.js';
import { loadConfig, resolveConfig } from './load-config.js';

async function configFile(text: string, name = 'tbi.yaml'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tbi-config-'));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

const converter = 'uplinkConverter: { inline: "return {deviceName: \'d\', deviceType: \'t\'};" }';

describe('loadConfig', () => {
  it('fills defaults and resolves paths from the config file', async () => {
    const file = await configFile('integrations: []\n');
    const { config, baseDir } = await loadConfig(file, { env: {} });
    expect(config.http.port).toBe(8080);
    expect(config.shutdownGraceMs).toBe(10_000);
    expect(config.dataDir).toBe(path.join(baseDir, '.data'));
    expect(config.platform).toEqual({ type: 'embedded' });
  });

  it('interpolates ${env:NAME}, coerces numbers and masks the values it took', async () => {
    const file = await configFile(`http:\n  port: \${env:PORT}\nauth:\n  token: "\${env:SECRET_TOKEN}"\ndataDir: \${env:NOPE:-./state}\n`);
    const loaded = await loadConfig(file, { env: { PORT: '9090', SECRET_TOKEN: 'hunter2-very-secret' } });
    expect(loaded.config.http.port).toBe(9090);
    expect(loaded.token).toBe('hunter2-very-secret');
    expect(loaded.config.dataDir).toBe(path.join(path.dirname(file), 'state'));
    expect(loaded.redact('token is hunter2-very-secret, port 9090')).toBe('token is [redacted], port 9090');
  });

  it('falls back to TBI_TOKEN and masks it too', () => {
    const loaded = resolveConfig({}, { env: { TBI_TOKEN: 'from-the-environment' } });
    expect(loaded.token).toBe('from-the-environment');
    expect(loaded.redact('"from-the-environment"')).toBe('"[redacted]"');
  });

  it('names the path and line of a reference to an unset variable', async () => {
    const file = await configFile(`integrations:\n  - name: a\n    type: echo\n    ${converter}\n    config:\n      password: \${env:MISSING_PASSWORD}\n`);
    const error = await loadConfig(file, { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      `${file}:6: integrations[0].config.password: expected the environment variable MISSING_PASSWORD to be set (referenced as \${env:MISSING_PASSWORD})`,
    );
  });

  it('reports every schema problem with file, line, path and what was expected', async () => {
    const file = await configFile(
      [
        'http:',
        '  port: 70000',
        'integrations:',
        '  - name: one',
        '    type: echo',
        `    ${converter}`,
        '  - name: one',
        '    type: Not A Type',
        `    ${converter}`,
        '    colour: red',
      ].join('\n'),
    );
    const error = (await loadConfig(file, { env: {} }).catch((e: unknown) => e)) as InvalidConfigError;
    expect(error).toBeInstanceOf(InvalidConfigError);
    const messages = error.problems.map((p) => p.message);
    expect(messages).toContain(`${file}:2: http.port: expected number to be <=65535, received 70000`);
    expect(messages.some((m) => m.startsWith(`${file}:8: integrations[1].type: expected a lower-case integration type`))).toBe(true);
    expect(messages.some((m) => m.startsWith(`${file}:7: integrations[1].name: expected a unique name, but integrations[0] is also called "one"`))).toBe(true);
    expect(messages.some((m) => m.includes('integrations[1]') && m.includes('colour'))).toBe(true);
  });

  it('reports a missing required field at its parent line', async () => {
    const file = await configFile('integrations:\n  - name: x\n    type: echo\n');
    const error = (await loadConfig(file, { env: {} }).catch((e: unknown) => e)) as InvalidConfigError;
    expect(error.problems[0]!.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: integrations\\[0\\]\\.uplinkConverter: expected object, received nothing$`));
  });

  it('reads JSON too and names the line of a syntax error', async () => {
    const json = await configFile('{ "http": { "port": 1234 } }', 'tbi.json');
    expect((await loadConfig(json, { env: {} })).config.http.port).toBe(1234);
    const broken = await configFile('http:\n  port: [1, 2\nlog: {}\n');
    const error = (await loadConfig(broken, { env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/tbi\.yaml:\d+:\d+: \(root\): expected valid YAML or JSON/);
  });

  it('says so when the file does not exist', async () => {
    const error = (await loadConfig('/nonexistent/tbi.yaml').catch((e: unknown) => e)) as ConfigError;
    expect(error.message).toBe('/nonexistent/tbi.yaml: (root): expected a readable config file (the file does not exist)');
  });
});
