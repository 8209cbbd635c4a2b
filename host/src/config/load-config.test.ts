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

const converter = "uplinkConverter: { inline: \"return {deviceName: 'd', deviceType: 't'};\" }";

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
    expect(messages).toContain(`${file}:2: http.port: expected an integer from 0 to 65535, received 70000`);
    expect(messages.some((m) => m.startsWith(`${file}:8: integrations[1].type: expected a lower-case integration type`))).toBe(true);
    expect(messages.some((m) => m.startsWith(`${file}:7: integrations[1].name: expected a unique name, but integrations[0] is also called "one"`))).toBe(true);
    expect(messages.at(-1)).toBe(
      `${file}:10: integrations[1].colour: unknown key "colour" (allowed here: name, type, enabled, config, metadata, uplinkConverter, downlinkConverter, converterLimits, maxInFlight, export, debug)`,
    );
  });

  it('reports a missing required field as required, at its parent line', async () => {
    const file = await configFile('integrations:\n  - name: x\n    type: echo\n');
    const error = (await loadConfig(file, { env: {} }).catch((e: unknown) => e)) as InvalidConfigError;
    expect(error.problems[0]!.message).toBe(
      `${file}:2: integrations[0].uplinkConverter: required (A converter: \`{ file: converters/x.js }\` or \`{ inline: "..." }\`)`,
    );
  });

  it('names every unset variable and every schema problem in one error, in the order of the file', async () => {
    const file = await configFile(['logging:', '  level: info', 'auth:', '  token: ${env:UNSET_ONE}', 'http:', '  port: ${env:UNSET_TWO}'].join('\n'));
    const error = (await loadConfig(file, { env: {} }).catch((e: unknown) => e)) as InvalidConfigError;
    expect(error.problems.map((p) => p.message)).toEqual([
      `${file}:1: logging: unknown key "logging" — did you mean "log"?`,
      `${file}:4: auth.token: expected the environment variable UNSET_ONE to be set (referenced as \${env:UNSET_ONE})`,
      `${file}:6: http.port: expected the environment variable UNSET_TWO to be set (referenced as \${env:UNSET_TWO})`,
    ]);
    // What is left to check later: the sections without problems, defaults for the others.
    expect(error.partial?.config.http.port).toBe(8080);
    // A number where a string is meant is taken as its string, not refused.
    expect(resolveConfig({ http: { host: 1 } }, { env: {} }).config.http.host).toBe('1');
  });

  it('takes a number where a string is meant as it was written', async () => {
    const file = await configFile('auth:\n  token: 00012345678901234567\nhttp:\n  host: 127\n');
    const { config } = await loadConfig(file, { env: {} });
    expect(config.auth.token).toBe('00012345678901234567');
    expect(config.http.host).toBe('127');
  });

  it('bounds every number, and the converter limits with the sandbox ranges', () => {
    const error = (() => {
      try {
        resolveConfig(
          { converters: { poolSize: 1000, limits: { memoryMb: 1, timeoutMs: 0 } }, shutdownGraceMs: 1e12, http: { bodyLimitBytes: -1 } },
          { env: {} },
        );
      } catch (e) {
        return e as InvalidConfigError;
      }
      throw new Error('accepted');
    })();
    expect(error.problems.map((p) => p.message).sort()).toEqual([
      'converters.limits.memoryMb: expected an integer from 8 to 4096, received 1',
      'converters.limits.timeoutMs: expected an integer from 1 to 600000, received 0',
      'converters.poolSize: expected an integer from 1 to 64, received 1000',
      'http.bodyLimitBytes: expected an integer from 1 to 268435456, received -1',
      'shutdownGraceMs: expected an integer from 1 to 3600000, received 1000000000000',
    ]);
  });

  it('refuses a YAML alias bomb with a clear error instead of expanding it', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const name of ['b', 'c', 'd', 'e'])
      levels.push(
        `${name}: &${name} [${Array(9)
          .fill(`*${levels.at(-1)![0]}`)
          .join(',')}]`,
      );
    const file = await configFile(`${levels.join('\n')}\n`);
    const error = (await loadConfig(file, { env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${file}: (root): expected valid YAML or JSON with at most 100 expanded aliases (*name)`);
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
