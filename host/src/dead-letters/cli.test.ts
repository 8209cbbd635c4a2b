import { afterEach, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { Hono } from 'hono';
import { functionConverter, message, serveOnLoopback } from '../../test/pipeline-support/fakes.js';
import { unitPipeline } from '../../test/pipeline-support/unit-pipeline.js';
import { registerDlqCommands } from './cli.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function hostWithDeadLetters() {
  const { pipeline } = await unitPipeline();
  const converter = functionConverter(() => {
    throw new Error('Unexpected token } in JSON');
  });
  const channel = pipeline.attach({ name: 'mqtt-1', type: 'mqtt', metadata: {}, uplink: converter, downlinkMode: 'none' });
  await channel.uplink.submit([message('a'), message('b')]);
  // The host mounts the routes under /api behind its bearer token.
  const app = new Hono();
  app.use('/api/*', async (c, next) => (c.req.header('authorization') === 'Bearer s3cret' ? next() : c.json({ error: 'missing or wrong bearer token' }, 401)));
  app.route('/api', pipeline.routes());
  const server = await serveOnLoopback(app);
  cleanups.push(async () => {
    await server.close();
    await pipeline.close();
  });
  return { url: server.url, converter };
}

async function tbi(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const lines: string[] = [];
  let err = '';
  const program = new Command('tbi').exitOverride().configureOutput({ writeErr: (s) => (err += s), writeOut: (s) => lines.push(s) });
  registerDlqCommands(program, { out: (line) => lines.push(line) });
  for (const sub of program.commands[0]!.commands) sub.exitOverride().configureOutput({ writeErr: (s) => (err += s), writeOut: (s) => lines.push(s) });
  try {
    await program.parseAsync(['node', 'tbi', ...args]);
    return { out: lines.join('\n'), err, code: 0 };
  } catch (error) {
    return { out: lines.join('\n'), err, code: (error as { exitCode?: number }).exitCode ?? -1 };
  }
}

describe('tbi dlq', () => {
  it('lists, shows, replays and purges over HTTP', async () => {
    const { url, converter } = await hostWithDeadLetters();
    const auth = ['--url', url, '--token', 's3cret'];
    const list = await tbi(['dlq', 'list', ...auth]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^ID\s+INTEGRATION\s+FAILED AT\s+TRIES\s+ERROR\s+PAYLOAD/);
    expect(list.out).toContain('THREW: Unexpected token } in JSON');
    expect(list.out).toContain('1-2 of 2 dead letters');

    const json = JSON.parse((await tbi(['dlq', 'list', ...auth, '--json'])).out) as { items: { id: number }[] };
    const show = await tbi(['dlq', 'show', String(json.items[0]!.id), ...auth]);
    expect(show.out).toContain('Dead letter');
    expect(show.out).toContain('topic: d/a');
    expect(show.out).toContain('{"device":"a","t":1}');

    converter.setDecode(() => []);
    const replay = await tbi(['dlq', 'replay', ...auth, '--integration', 'mqtt-1']);
    expect(replay.out).toBe('Replayed 2 dead letters: 2 stored and removed, 0 failed again (kept), 0 skipped.');
    expect((await tbi(['dlq', 'list', ...auth])).out).toBe('No dead letters.');
    expect((await tbi(['dlq', 'purge', ...auth, '--all'])).out).toBe('Deleted 0 dead letters.');
  });

  it('explains a wrong token, a missing letter, an unreachable host and a purge without a filter', async () => {
    const { url } = await hostWithDeadLetters();
    const noToken = await tbi(['dlq', 'list', '--url', url]);
    expect(noToken.code).toBe(1);
    expect(noToken.err).toMatch(/401: missing or wrong bearer token.*TBI_TOKEN/);
    const missing = await tbi(['dlq', 'show', '999', '--url', url, '--token', 's3cret']);
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('no dead letter 999');
    const down = await tbi(['dlq', 'list', '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(2);
    expect(down.err).toMatch(/cannot reach the host at http:\/\/127.0.0.1:9/);
    const purge = await tbi(['dlq', 'purge', '--url', url, '--token', 's3cret']);
    expect(purge.err).toContain('say what to purge');
  });
});
