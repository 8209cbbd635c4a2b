import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// By path: the testkit depends on the host, so the host cannot depend on it as a package.
import { startGatewayTestServer, type GatewayTestServer } from '../../packages/plugin-testkit/src/thingsboard/index.js';
import { packedProject } from './helpers/packed-project.js';
import { runTbi, spawnTbi } from './helpers/run-tbi.js';

const CONVERTER =
  "var d = decodeToJson(payload); return { deviceName: d.deviceName, deviceType: 'sensor', telemetry: { ts: d.ts, values: { temperature: d.temperature } } };";
const TOKEN = 'tb-gateway-token-e2e';

function config(port: number): string {
  return [
    'http:',
    '  host: 127.0.0.1',
    '  port: 0',
    'auth:',
    '  token: cli-test-token-0123456789',
    'platform:',
    '  type: thingsboard',
    '  host: 127.0.0.1',
    `  port: ${port}`,
    '  accessToken: ${env:TB_GATEWAY_TOKEN}',
    'integrations:',
    '  - name: webhook',
    '    type: echo',
    '    config:',
    '      key: tb',
    '    uplinkConverter:',
    `      inline: "${CONVERTER}"`,
  ].join('\n');
}

describe('tbi start with platform type thingsboard', () => {
  let project: string;
  let tb: GatewayTestServer;

  beforeAll(async () => {
    [project, tb] = await Promise.all([packedProject(['echo']), startGatewayTestServer({ accessToken: TOKEN })]);
    await writeFile(path.join(project, 'tbi.yaml'), config(tb.port));
  });
  afterAll(async () => {
    await tb?.stop();
  });

  it('with a wrong token exits with a clear error naming the server and the cause', async () => {
    const result = await runTbi(['start', '--no-pretty'], { cwd: project, env: { TB_GATEWAY_TOKEN: 'not-the-token' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ThingsBoard at mqtt://127.0.0.1:${tb.port} refused the gateway's connection: not authorized`);
    expect(result.stderr).toContain('platform.accessToken');
    expect(result.stderr).not.toContain('    at ');
  });

  it('delivers a converted record with its device name, type, timestamp and value', async () => {
    const tbi = spawnTbi(['start', '--no-pretty'], { cwd: project, env: { TB_GATEWAY_TOKEN: TOKEN } });
    try {
      const started = await tbi.waitForLog((l) => l.msg === 'host started');
      const response = await fetch(`${started.url as string}/api/v1/integrations/echo/tb/ingest`, {
        method: 'POST',
        body: JSON.stringify({ deviceName: 'tb-dev-1', ts: 1_700_000_000_123, temperature: 21.5 }),
      });
      expect(((await response.json()) as { outcomes: Array<{ status: string }> }).outcomes[0]!.status).toBe('stored');
      await tb.waitFor(() => tb.device('tb-dev-1')?.telemetry.length === 1, 10_000, 'the record at the test server');
      expect(tb.device('tb-dev-1')).toMatchObject({ type: 'sensor', connected: true, telemetry: [{ ts: 1_700_000_000_123, values: { temperature: 21.5 } }] });
    } finally {
      tbi.child.kill('SIGTERM');
      await tbi.exited;
    }
  });
});
