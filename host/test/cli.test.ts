import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packedProject } from './helpers/packed-project.js';
import { runTbi, spawnTbi } from './helpers/run-tbi.js';
import { PLUGIN_API_VERSION } from '@tbi/plugin-api';

const CONVERTER = "var d = decodeToJson(payload); return { deviceName: d.deviceName, deviceType: 'sensor', telemetry: { temperature: d.temperature } };";

function config(integrations: string): string {
  return ['http:', '  host: 127.0.0.1', '  port: 0', 'auth:', '  token: ${env:MY_TOKEN}', 'shutdownGraceMs: 20000', 'integrations:', integrations].join('\n');
}

const echo = (name: string, key: string, extra = '') =>
  [`  - name: ${name}`, '    type: echo', '    config:', `      key: ${key}`, extra, '    uplinkConverter:', `      inline: "${CONVERTER}"`]
    .filter(Boolean)
    .join('\n');

describe('the tbi CLI in a project with plugins installed from tarballs', () => {
  let project: string;

  beforeAll(async () => {
    project = await packedProject(['echo', 'future']);
  });

  it('starts, serves, and on SIGTERM stops cleanly with exit code 0', async () => {
    await writeFile(path.join(project, 'tbi.yaml'), config(echo('webhook', 'sample')));
    const tbi = spawnTbi(['start', '--no-pretty'], { cwd: project, env: { MY_TOKEN: 'cli-test-token-0123456789' } });
    const started = await tbi.waitForLog((l) => l.msg === 'host started');
    const url = started.url as string;
    const hello = await fetch(`${url}/api/v1/integrations/echo/sample/hello`);
    expect(await hello.json()).toMatchObject({ name: 'webhook' });
    const stored = await fetch(`${url}/api/v1/integrations/echo/sample/ingest`, { method: 'POST', body: '{"deviceName":"cli-dev","temperature":3}' });
    expect(((await stored.json()) as { outcomes: Array<{ status: string }> }).outcomes[0]!.status).toBe('stored');
    tbi.child.kill('SIGTERM');
    expect(await tbi.exited).toBe(0);
    const messages = tbi.stdout();
    expect(messages).toContain('"msg":"integration stopped"');
    expect(messages).toContain('"msg":"host stopped"');
    // The token came from the environment: it never reaches the log.
    expect(messages).not.toContain('cli-test-token-0123456789');
    expect(tbi.stderr()).toBe('');
  });

  it('exits non-zero when stopping takes longer than shutdownGraceMs', async () => {
    const text = config(echo('stuck', 'stuck', '      hangOnStop: true')).replace('shutdownGraceMs: 20000', 'shutdownGraceMs: 300');
    await writeFile(path.join(project, 'stuck.yaml'), text);
    const tbi = spawnTbi(['start', '-c', 'stuck.yaml'], { cwd: project, env: { MY_TOKEN: 'x' } });
    await tbi.waitForLog((l) => l.msg === 'host started');
    tbi.child.kill('SIGTERM');
    expect(await tbi.exited).toBe(1);
    expect(tbi.stderr()).toBe('tbi: shutdown took longer than shutdownGraceMs (300 ms): exiting anyway\n');
  });

  it('validates a project, importing the plugin installed from its tarball', async () => {
    await writeFile(path.join(project, 'tbi.yaml'), config(echo('webhook', 'sample')));
    const result = await runTbi(['validate'], { cwd: project, env: { MY_TOKEN: 'x' } });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('tbi.yaml is valid: 1 integration(s)\n  webhook: type echo (tbi-fixture-echo 1.2.3)\n');
    expect(result.code).toBe(0);
    const printed = await runTbi(['validate', '--print'], { cwd: project, env: { MY_TOKEN: 'printed-secret-token' } });
    expect(printed.stdout).toContain('"token": "[redacted]"');
    expect(printed.stdout).not.toContain('printed-secret-token');
  });

  it("rejects an integration block that its plugin's schema refuses, naming file, line and path", async () => {
    await writeFile(path.join(project, 'bad.yaml'), config([echo('ok', 'one'), echo('bad', 'two', '      port: 99999')].join('\n')));
    const result = await runTbi(['start', '--config', 'bad.yaml'], { cwd: project, env: { MY_TOKEN: 'x' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('tbi: bad.yaml:18: integrations[1].config.port: expected an integer from 1 to 65535, received 99999\n');
    expect(result.stdout).not.toContain('listening');
  });

  it('names the missing environment variable, and the package of a type nobody provides', async () => {
    await writeFile(path.join(project, 'tbi.yaml'), config(echo('webhook', 'sample')));
    const noEnv = await runTbi(['validate'], { cwd: project, env: { MY_TOKEN: '' } });
    expect(noEnv.code).toBe(1);
    expect(noEnv.stderr).toBe('tbi: tbi.yaml:5: auth.token: expected the environment variable MY_TOKEN to be set (referenced as ${env:MY_TOKEN})\n');

    await writeFile(
      path.join(project, 'mqtt.yaml'),
      config(['  - name: broker', '    type: mqtt', `    uplinkConverter: { inline: "return [];" }`].join('\n')),
    );
    const missing = await runTbi(['validate', '-c', 'mqtt.yaml'], { cwd: project, env: { MY_TOKEN: 'x' } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'tbi: mqtt.yaml:9: integrations[0].type: no installed plugin provides the integration type "mqtt". Install @tbi/plugin-mqtt',
    );

    await writeFile(path.join(project, 'future.yaml'), config(['  - name: f', '    type: future', `    uplinkConverter: { inline: "return [];" }`].join('\n')));
    const future = await runTbi(['validate', '-c', 'future.yaml'], { cwd: project, env: { MY_TOKEN: 'x' } });
    expect(future.code).toBe(1);
    expect(future.stderr).toContain(`tbi-fixture-future 2.0.0 requires plugin API ^2.0.0, but this host provides plugin API ${PLUGIN_API_VERSION}`);
  });

  it('prints the JSON Schema with the plugin config schemas, and --help for every command', async () => {
    const schema = await runTbi(['schema'], { cwd: project });
    expect(schema.code).toBe(0);
    const json = JSON.parse(schema.stdout) as { properties: { integrations: { items: { allOf: Array<{ if: unknown; then: unknown }> } } } };
    expect(json.properties.integrations.items.allOf[0]!.if).toEqual({ properties: { type: { const: 'echo' } }, required: ['type'] });
    for (const command of ['start', 'validate', 'plugins', 'schema', 'convert', 'test-converters', 'dlq']) {
      const help = await runTbi([command, '--help'], { cwd: project });
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain(`Usage: tbi ${command}`);
    }
  });
});
