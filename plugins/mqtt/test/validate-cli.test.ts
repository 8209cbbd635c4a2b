// `tbi validate` (the built host's CLI) on configs with bad topic-pattern placeholders: refused at
// validation, with the file, the path and what is wrong, before anything connects.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tbiBin } from '@tbi/plugin-testkit';

const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tbi-mqtt-validate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function validate(mqtt: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const file = path.join(dir, `tbi-${Math.random().toString(36).slice(2)}.yaml`);
  const lines = [
    `dataDir: ${JSON.stringify(path.join(dir, 'data'))}`,
    `plugins: [${JSON.stringify(PLUGIN_DIR)}]`,
    'integrations:',
    '  - name: sensors',
    '    type: mqtt',
    '    uplinkConverter: { inline: "return null;" }',
    '    config:',
    '      host: 127.0.0.1',
    ...mqtt.map((l) => `      ${l}`),
  ];
  await writeFile(file, `${lines.join('\n')}\n`);
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [tbiBin(), 'validate', '-c', file], { cwd: dir, env: { ...process.env, ...env } });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe('tbi validate checks MQTT topic-pattern placeholders', () => {
  it('refuses ${topik[1]} and a level out of range for the filter, naming the path', async () => {
    const result = await validate([
      'topicFilters:',
      '  - filter: sensors/+/telemetry',
      '    deviceNamePattern: "${topic[3]}"',
      'deviceTypePattern: "${topik[1]}"',
    ]);
    expect(result.code, result.out).not.toBe(0);
    expect(result.out).toContain('deviceTypePattern');
    expect(result.out).toContain('${topik[1]} is none of them');
    expect(result.out).toContain('topicFilters[0].deviceNamePattern');
    expect(result.out).toContain(
      ':11: integrations[0].config.topicFilters[0].deviceNamePattern: expected levels that topics matching "sensors/+/telemetry" have (3 levels, 0 to 2): ${topic[3]} is out of range',
    );
  });

  it("accepts the range form of ThingsBoard's table", async () => {
    const result = await validate(['topicFilters:', '  - filter: "building/#"', 'deviceNamePattern: "${topic[1:3]}"']);
    expect(result.out).not.toMatch(/deviceNamePattern/);
    expect(result.code, result.out).toBe(0);
  });
});

describe('tbi validate gives MQTT settings from ${env:…} their type', () => {
  // The plugin's schema takes numbers and booleans only: the host coerces the strings of
  // `${env:…}` by the published JSON Schema, so no connector carries coercions of its own.
  it('accepts a port, a boolean and a QoS written as environment references', async () => {
    const result = await validate(
      ['port: ${env:MQTT_PORT}', 'cleanSession: ${env:MQTT_CLEAN}', 'topicFilters:', '  - filter: a/b', '    qos: ${env:MQTT_QOS}'],
      { MQTT_PORT: '1884', MQTT_CLEAN: 'true', MQTT_QOS: '1' },
    );
    expect(result.code, result.out).toBe(0);
  });

  it('still refuses an environment value that is not a number, naming the path', async () => {
    const result = await validate(['port: ${env:MQTT_PORT}', 'topicFilters:', '  - filter: a/b'], { MQTT_PORT: 'eighteen' });
    expect(result.code, result.out).not.toBe(0);
    expect(result.out).toContain('integrations[0].config.port');
  });
});
