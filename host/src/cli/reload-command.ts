import { Command } from 'commander';
import type { InstanceStatus } from '../lifecycle/integration-instance.js';
import { hostClient, withHostOptions, type HostClientIo } from './host-client.js';
import { terminalSafe } from './terminal-text.js';

interface ReloadAnswer {
  reloaded?: 'converters' | 'started';
  status?: InstanceStatus;
  error?: string;
}

/**
 * `tbi reload <integration>`: makes a running host pick up fixed converter files. By default
 * `POST /api/integrations/:name/reload` swaps the converters in place (the connection stays; a
 * source that does not compile leaves the running one); `--restart` uses
 * `POST /api/integrations/:name/restart`, which rebuilds the connector too. Exit 0 when it runs
 * with the new converters, 1 when they were refused or it failed to start, 3 when there is no such
 * integration.
 */
export function reloadCommand(out: (text: string) => void, io: HostClientIo = {}): Command {
  return withHostOptions(new Command('reload'))
    .description('make a running host use the current converter files of one integration (not tbi.yaml)')
    .argument('<integration>', 'name of the integration')
    .option('--restart', 'stop and start the whole integration (connector too), not only swap its converters')
    .action(async (name: string, opts: { json?: boolean; restart?: boolean }, command: Command) => {
      const client = hostClient(command, io);
      const action = opts.restart ? 'restart' : 'reload';
      const response = await client.raw(`api/integrations/${encodeURIComponent(name)}/${action}`, { method: 'POST', headers: { accept: 'application/json' } });
      const text = await response.text();
      // 422 (converters refused) and 500 (failed to start) carry the integration's status: show it.
      if (!response.ok && response.status !== 422 && response.status !== 500) client.failFor(response, text);
      let answer: ReloadAnswer;
      try {
        const json = JSON.parse(text) as ReloadAnswer & InstanceStatus;
        answer = opts.restart ? { status: json } : json;
      } catch {
        return client.failFor(response, text);
      }
      if (opts.json) out(`${JSON.stringify(answer, null, 2)}\n`);
      const again = `Fix it and run \`tbi reload ${name}\` again.`;
      if (response.status === 422) return command.error(`${terminalSafe(answer.error ?? 'the converters were refused')}\n${again}`, { exitCode: 1 });
      const status = answer.status!;
      if (status.state === 'failed') {
        return command.error(`${terminalSafe(status.error ?? `integration "${name}" failed to start`)}\n${again}`, { exitCode: 1 });
      }
      if (opts.json) return;
      const detail = status.health.detail ? ` (${terminalSafe(status.health.detail)})` : '';
      const what = opts.restart ? 'Restarted' : answer.reloaded === 'started' ? 'Started (it was not running)' : 'Reloaded the converters of';
      out(`${what} ${terminalSafe(status.name)}: ${status.state}, health ${status.health.status}${detail}.\n`);
    });
}
