// The host restarts integrations that fail (at start, or later by reporting `down` for long) with
// backoff, shows it in health and metrics, and stops retrying when the user stops them.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type HostHandle } from '../src/index.js';
import { memoryLogger } from './helpers/memory-logger.js';
import { FIXTURES } from './helpers/packed-project.js';

const TOKEN = 'test-token-0123456789abcdef';
const converter = { inline: 'return [];' };
const auth = { Authorization: `Bearer ${TOKEN}` };

interface Status {
  state: string;
  desired: string;
  health: { status: string; detail?: string };
  restart?: { attempt: number; at: string; cause: string };
}

describe('a host restarts failed integrations', () => {
  let host: HostHandle;
  const log = memoryLogger();
  const status = async (name: string) => (await (await fetch(`${host.url}/api/integrations/${name}`, { headers: auth })).json()) as Status;
  const metric = async (name: string, labels: string) => {
    const text = await (await fetch(`${host.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const waitFor = async (check: () => Promise<boolean>, what: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    host = await startHost({
      config: {
        http: { host: '127.0.0.1', port: 0 },
        dataDir: await mkdtemp(path.join(tmpdir(), 'tbi-restart-')),
        plugins: ['./flaky'],
        integrations: [
          { name: 'flaky-3', type: 'flaky', config: { failStarts: 3 }, uplinkConverter: converter },
          { name: 'flaky-down', type: 'flaky', config: { downOnFirstRun: true }, uplinkConverter: converter },
          { name: 'flaky-forever', type: 'flaky', config: { failStarts: 1000 }, uplinkConverter: converter },
        ],
      },
      baseDir: FIXTURES,
      env: { TBI_TOKEN: TOKEN },
      logger: log.logger,
      // random 1: every delay is its cap (1200, 2400, 2400 ms), so the test knows the schedule.
      restartPolicy: { initialMs: 1200, maxMs: 2400, random: () => 1, downTimeoutMs: 500, checkIntervalMs: 50 },
    });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it('restarts an integration whose start fails, with growing delays, visibly, until it is up', async () => {
    // Read while failed: a busy machine may already be in a restart attempt (`starting`) here, or
    // past the first failure; the log lines below show every attempt in order.
    let first = await status('flaky-3');
    await waitFor(async () => (first = await status('flaky-3')).state === 'failed', 'flaky-3 failed');
    const n = first.restart?.attempt;
    expect(first).toMatchObject({ state: 'failed', desired: 'running', restart: { cause: `failed to start: start ${n} of 3 told to fail` } });
    expect(first.health).toEqual({
      status: 'down',
      detail: expect.stringMatching(new RegExp(`^restarting in [0-3] s \\(attempt ${n}\\): failed to start: start ${n} of 3 told to fail$`)),
    });
    const seen = new Set<string>();
    await waitFor(async () => {
      const s = await status('flaky-3');
      if (s.health.detail) seen.add(s.health.detail.replace(/in \d+ s/, 'in N s'));
      return s.state === 'running';
    }, 'flaky-3 running');
    const later = [2, 3].filter((a) => a > (n ?? 0));
    expect([...seen]).toEqual(expect.arrayContaining(later.map((a) => `restarting in N s (attempt ${a}): failed to start: start ${a} of 3 told to fail`)));
    const up = await status('flaky-3');
    expect(up.health.status).toBe('up');
    expect(up.restart).toBeUndefined();
    expect(await metric('tbi_integration_restarts_total', 'integration="flaky-3",type="flaky"')).toBe(3);
    expect(await metric('tbi_integration_state', 'integration="flaky-3",type="flaky",state="running"')).toBe(1);
    expect(await metric('tbi_integration_state', 'integration="flaky-3",type="flaky",state="failed"')).toBe(0);
    expect(await metric('tbi_integration_up', 'integration="flaky-3",type="flaky"')).toBe(1);
    // Each failure is one WARN line naming the restart; none at ERROR.
    const lines = log.lines().filter((l) => l.integration === 'flaky-3');
    const failures = lines.filter((l) => l.restart !== undefined);
    expect(failures.map((l) => [l.level, (l.msg as string).replace(/.*; /, '')])).toEqual([
      [40, 'restarting in 2 s (attempt 1)'],
      [40, 'restarting in 3 s (attempt 2)'],
      [40, 'restarting in 3 s (attempt 3)'],
    ]);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    // The host's summary after starting says it at WARN too, for a failed one and for one that runs but is down.
    const summary = (name: string) => log.lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith(`integration ${name}: `));
    expect(summary('flaky-3')).toMatchObject({
      level: 40,
      msg: 'integration flaky-3: down (restarting in 2 s (attempt 1): failed to start: start 1 of 3 told to fail)',
    });
    expect(summary('flaky-down')).toMatchObject({ level: 40, msg: expect.stringMatching(/^integration flaky-down: down \(/) });
  });

  it('restarts an integration whose plugin reports down for longer than the policy allows', async () => {
    await waitFor(async () => (await metric('tbi_integration_restarts_total', 'integration="flaky-down",type="flaky"')) === 1, 'a restart of flaky-down');
    await waitFor(async () => (await status('flaky-down')).health.status === 'up', 'flaky-down up');
    const down = log.lines().find((l) => l.integration === 'flaky-down' && l.level === 40 && typeof l.msg === 'string' && l.msg.includes('reported down'));
    expect(down?.msg).toMatch(
      /^integration "flaky-down" \(plugin tbi-fixture-flaky 0\.0\.1\) failed: reported down for \d+ s: lost the line to the fixture broker; restarting in 2 s \(attempt 1\)$/,
    );
  });

  it('stops retrying once the user stops the integration through the API', async () => {
    await waitFor(async () => ((await status('flaky-forever')).restart?.attempt ?? 0) >= 2, 'a second failure of flaky-forever');
    const res = await fetch(`${host.url}/api/integrations/flaky-forever/stop`, { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    const stopped = (await res.json()) as Status;
    expect(stopped).toMatchObject({ state: 'stopped', desired: 'stopped', health: { status: 'stopped' } });
    expect(stopped.restart).toBeUndefined();
    const restarts = await metric('tbi_integration_restarts_total', 'integration="flaky-forever",type="flaky"');
    await new Promise((resolve) => setTimeout(resolve, 3000)); // longer than the largest delay
    expect(await metric('tbi_integration_restarts_total', 'integration="flaky-forever",type="flaky"')).toBe(restarts);
    expect((await status('flaky-forever')).state).toBe('stopped');
  });

  it('never repeats a key in a log line, even when a plugin logs its integration name again', () => {
    const lines = log.text().split('\n').filter(Boolean);
    expect(lines.some((l) => l.includes('flaky fixture starting'))).toBe(true);
    expect(lines.length).toBeGreaterThan(10);
    const repeated = lines.filter((line) => new Set(topLevelKeys(line)).size !== topLevelKeys(line).length);
    expect(repeated).toEqual([]);
  });
});

/** The keys of a JSON object's text at its top level, repeats included (`JSON.parse` drops them). */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (depth === 1 && json[end + 1] === ':') keys.push(json.slice(i + 1, end));
      i = end;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}
