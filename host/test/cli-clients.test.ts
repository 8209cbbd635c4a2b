import { createServer } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedProject } from './helpers/packed-project.js';
import { runTbi, spawnTbi, type TbiProcess } from './helpers/run-tbi.js';

// The clients of a running host (`tbi dlq`, `status`, `events`, `reload`) against a real `tbi
// start`, which listens on a fixed port that only its tbi.yaml (through ${env:...}) names.
const TOKEN = 'clients-test-token-0123456789';
// The ESC title sequence travels JSON-escaped, so it reaches the converter's error message; the
// C1 CSI and the right-to-left override are valid UTF-8 text and reach the payload view as they are.
const HOSTILE = '{"deviceName":"evil\u009b31m\u202e","fail":"\\u001b]0;pwned\\u0007boom"}';
const GOOD = '{"deviceName":"dev-1","temperature":21}';
const CONVERTER = (fixed: boolean) =>
  `var d = decodeToJson(payload);${fixed ? '' : ' if (d.fail) throw new Error(d.fail);'} return { deviceName: d.deviceName, deviceType: 'sensor', telemetry: { temperature: d.temperature || 0 } };`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// Each test spawns several `tbi` processes: on a loaded machine that takes more than the default 30 s.
describe('tbi clients of a running host', { timeout: 120_000 }, () => {
  let project: string;
  let port: number;
  let host: TbiProcess;
  const env = () => ({ HOST_PORT: String(port), MY_TOKEN: TOKEN, TBI_URL: '', TBI_TOKEN: '' });
  const tbi = (args: string[], extraEnv: Record<string, string> = {}, cwd = project) => runTbi(args, { cwd, env: { ...env(), ...extraEnv } });
  const ingest = async (body: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/integrations/echo/sample/ingest`, { method: 'POST', body });
    return ((await res.json()) as { outcomes: Array<{ status: string }> }).outcomes[0]!.status;
  };

  beforeAll(async () => {
    project = await packedProject(['echo']);
    port = await freePort();
    await writeFile(path.join(project, 'conv.js'), CONVERTER(false));
    const config = [
      'http:',
      '  host: 127.0.0.1',
      '  port: ${env:HOST_PORT}',
      'auth:',
      '  token: ${env:MY_TOKEN}',
      'integrations:',
      '  - name: webhook',
      '    type: echo',
      '    config: { key: sample }',
      '    debug: { mode: all }',
      '    uplinkConverter: { file: conv.js }',
    ];
    await writeFile(path.join(project, 'tbi.yaml'), config.join('\n'));
    host = spawnTbi(['start', '--no-pretty'], { cwd: project, env: env() });
    await host.waitForLog((l) => l.msg === 'host started');
    expect(await ingest(GOOD)).toBe('stored');
    expect(await ingest(HOSTILE)).toBe('dead-lettered');
  }, 120_000);

  afterAll(async () => {
    host?.child.kill('SIGTERM');
    await host?.exited;
  });

  it('find the host and its token in tbi.yaml (after env interpolation), in the cwd or by --config', async () => {
    const list = await tbi(['dlq', 'list']);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('1-1 of 1 dead letters');
    const elsewhere = await mkdtemp(path.join(tmpdir(), 'tbi-elsewhere-'));
    const byConfig = await tbi(['dlq', 'list', '--json', '--config', path.join(project, 'tbi.yaml')], {}, elsewhere);
    expect(JSON.parse(byConfig.stdout)).toMatchObject({ total: 1 });
    const noConfig = await tbi(['dlq', 'list'], {}, elsewhere);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('cannot reach the host at http://127.0.0.1:8080');
  });

  it('take TBI_URL and TBI_TOKEN over the config file, and flags over both', async () => {
    const badEnvUrl = await tbi(['dlq', 'list'], { TBI_URL: 'http://127.0.0.1:9' });
    expect(badEnvUrl.code).toBe(2);
    expect(badEnvUrl.stderr).toContain('cannot reach the host at http://127.0.0.1:9 (from TBI_URL)');
    const flagUrl = await tbi(['dlq', 'list', '--url', `http://127.0.0.1:${port}`], { TBI_URL: 'http://127.0.0.1:9' });
    expect(flagUrl.code).toBe(0);
    const badEnvToken = await tbi(['dlq', 'list'], { TBI_TOKEN: 'wrong' });
    expect(badEnvToken.code).toBe(1);
    expect(badEnvToken.stderr).toMatch(/401: missing or wrong bearer token/);
    expect((await tbi(['dlq', 'list', '--token', TOKEN], { TBI_TOKEN: 'wrong' })).code).toBe(0);
    const help = await tbi(['dlq', 'list', '--help']);
    expect(help.stdout).toContain('TBI_URL and TBI_TOKEN, else');
  });

  it('dlq list and show escape control and bidi characters from the message; --json stays exact', async () => {
    const list = await tbi(['dlq', 'list']);
    const show = await tbi(['dlq', 'show', '1']);
    expect(show.code).toBe(0);
    for (const out of [list.stdout, show.stdout]) {
      // eslint-disable-next-line no-control-regex
      expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
      expect(out).toContain('\\x1b]0;pwned\\x07boom');
      expect(out).toContain('evil\\x9b31m\\u202e');
    }
    const json = JSON.parse((await tbi(['dlq', 'show', '1', '--json'])).stdout) as { error: { message: string }; payload: { text: string } };
    expect(json.error.message).toContain('\u001b]0;pwned\u0007boom');
    expect(json.payload.text).toBe(HOSTILE);
  });

  it('tbi status shows readiness, state, health and message counts; --json too', async () => {
    const status = await tbi(['status', '--interval', '0.2']);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const lines = status.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Host http://127.0.0.1:${port}: ready`);
    expect(lines[1]).toMatch(/^NAME\s+TYPE\s+STATE\s+HEALTH\s+RECEIVED\s+STORED\s+FAILED\s+DEAD\s+IN\/S\s+STORED\/S\s+DETAIL$/);
    expect(lines[2]).toMatch(/^webhook\s+echo\s+running\s+up\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+(\.\d)?\s+\d+(\.\d)?/);
    const json = JSON.parse((await tbi(['status', '--json', '--interval', '0'])).stdout) as {
      ready: boolean;
      integrations: Array<{ name: string; state: string; messages: { received: number; deadLetters: number }; perSecond: unknown }>;
    };
    expect(json.ready).toBe(true);
    expect(json.integrations[0]).toMatchObject({ name: 'webhook', state: 'running', perSecond: null });
    expect(json.integrations[0]!.messages.received).toBeGreaterThanOrEqual(2);
    expect(json.integrations[0]!.messages.deadLetters).toBeGreaterThanOrEqual(1);
  });

  it('tbi events follows the live debug events: JSON lines, --failures, --recent, pretty and escaped', async () => {
    const follow = spawnTbi(['events', 'webhook', '--json', '--count', '2'], { cwd: project, env: env() });
    await waitFor(() => follow.stderr().includes('Following webhook'));
    expect(await ingest(GOOD)).toBe('stored');
    expect(await ingest(HOSTILE)).toBe('dead-lettered');
    expect(await follow.exited).toBe(0);
    const events = follow
      .stdout()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; error?: { message: string } });
    expect(events.map((e) => e.status)).toEqual(['stored', 'dead-lettered']);
    expect(events[1]!.error!.message).toContain('\u001b]0;pwned');

    const failures = await tbi(['events', 'webhook', '--recent', '--failures', '--count', '1']);
    expect(failures.code).toBe(0);
    expect(failures.stdout).toMatch(/^\S+Z {2}#\d+ {2}uplink dead-lettered/);
    expect(failures.stdout).toContain('error:    THREW: Error: \\x1b]0;pwned\\x07boom');
    // eslint-disable-next-line no-control-regex
    expect(failures.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);

    const missing = await tbi(['events', 'nope']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no running integration is named "nope"');
  });

  it('tbi reload swaps in a fixed converter file; a broken one is refused and the running one stays', async () => {
    await writeFile(path.join(project, 'conv.js'), 'return [;');
    const broken = await tbi(['reload', 'webhook']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('the running converters were kept');
    expect(broken.stderr).toContain('SyntaxError');
    expect(broken.stderr).toContain('tbi reload webhook');
    // Still the old converter: running, storing good readings, refusing the hostile one.
    expect(await ingest(GOOD)).toBe('stored');
    expect(await ingest(HOSTILE)).toBe('dead-lettered');

    await writeFile(path.join(project, 'conv.js'), CONVERTER(true));
    const fixed = await tbi(['reload', 'webhook']);
    expect(fixed.stderr).toBe('');
    expect(fixed.stdout).toBe('Reloaded the converters of webhook: running, health up.\n');
    expect(fixed.code).toBe(0);
    expect(await ingest(HOSTILE)).toBe('stored');

    const restarted = await tbi(['reload', 'webhook', '--restart']);
    expect(restarted.stdout).toBe('Restarted webhook: running, health up.\n');
    expect(restarted.code).toBe(0);
    expect(await ingest(HOSTILE)).toBe('stored');

    const missing = await tbi(['reload', 'nope']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no integration named "nope"');
  });

  it('a restart with a broken converter leaves the integration failed: status says not ready (exit 4), reload starts it again', async () => {
    await writeFile(path.join(project, 'conv.js'), 'return [;');
    const restart = await tbi(['reload', 'webhook', '--restart']);
    expect(restart.code).toBe(1);
    expect(restart.stderr).toMatch(/integration "webhook" \(plugin tbi-fixture-echo 1\.2\.3\) failed to start: .*SyntaxError/);
    const status = await tbi(['status', '--interval', '0']);
    expect(status.code).toBe(4);
    expect(status.stdout).toContain('NOT READY');
    expect(status.stdout).toMatch(/\nwebhook\s+echo\s+failed\s+down\s+.*failed to start/);

    await writeFile(path.join(project, 'conv.js'), CONVERTER(true));
    const started = await tbi(['reload', 'webhook']);
    // The host restarts a failed integration by itself (with backoff), so its own attempt may come
    // first; either way the reload leaves it running the fixed converter.
    expect(started.stdout).toMatch(/^(Started \(it was not running\)|Reloaded the converters of) webhook: running, health up\.\n$/);
    expect((await tbi(['status', '--interval', '0'])).code).toBe(0);
  });

  it('every client command has --help naming how it finds the host', async () => {
    for (const command of ['status', 'events', 'reload']) {
      const help = await tbi([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain(`Usage: tbi ${command}`);
      expect(help.stdout, command).toContain('TBI_URL');
    }
  });
});

async function waitFor(test: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
