import { Command } from 'commander';
import type { InstanceStatus } from '../lifecycle/integration-instance.js';
import { hostClient, withHostOptions, type HostClientIo } from './host-client.js';
import { terminalSafe } from './terminal-text.js';

/**
 * `tbi reload <integration>`: restarts one integration of a running host
 * (`POST /api/integrations/:name/restart`), so a fixed converter file takes effect. Exit 0 when it
 * runs again, 1 when it failed to start (the reason is printed), 3 when there is no such integration.
 */
export function reloadCommand(out: (text: string) => void, io: HostClientIo = {}): Command {
  return withHostOptions(new Command('reload'))
    .description('restart one integration of a running host, re-reading its converter files (not tbi.yaml)')
    .argument('<integration>', 'name of the integration')
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      const client = hostClient(command, io);
      const response = await client.raw(`api/integrations/${encodeURIComponent(name)}/restart`, { method: 'POST', headers: { accept: 'application/json' } });
      const text = await response.text();
      // 500 carries the status of an integration that failed to start again: show it, exit 1.
      if (!response.ok && response.status !== 500) client.failFor(response, text);
      let status: InstanceStatus;
      try {
        status = JSON.parse(text) as InstanceStatus;
      } catch {
        return client.failFor(response, text);
      }
      if (opts.json) out(`${JSON.stringify(status, null, 2)}\n`);
      if (status.state === 'failed') {
        return command.error(`${terminalSafe(status.error ?? `integration "${name}" failed to start`)}\nFix it and run \`tbi reload ${name}\` again.`, { exitCode: 1 });
      }
      if (!opts.json) {
        const detail = status.health.detail ? ` (${terminalSafe(status.health.detail)})` : '';
        out(`Reloaded ${terminalSafe(status.name)}: ${status.state}, health ${status.health.status}${detail}.\n`);
      }
    });
}
