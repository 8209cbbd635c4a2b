import { Command, InvalidArgumentError } from 'commander';
import type { ReplayView } from '../replay/index.js';
import { hostClient, withHostOptions, type HostClientIo } from './host-client.js';
import { terminalSafe } from './terminal-text.js';
import { textTable } from './text-table.js';

/** Exit code of `tbi replay` when the replay failed or was cancelled. */
export const EXIT_REPLAY_FAILED = 1;

function replayId(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a replay id (a positive integer)');
  return Number(value);
}

const count = (n: number) => n.toLocaleString('en-US');

/** One line of progress: `replay 3 of kafka-in: running, 41,200 read, 41,200 stored, 0 failed, 12,345 msg/s, 41.2 %, at …`. */
export function describeReplay(r: ReplayView): string {
  const parts = [`${count(r.read)} read`, `${count(r.stored)} stored`, `${count(r.failed)} failed`];
  if (r.rate !== undefined) parts.push(`${count(r.rate)} msg/s`);
  if (r.percent !== undefined) parts.push(`${r.percent} %`);
  if (r.position) parts.push(`at ${terminalSafe(r.position)}`);
  const detail = r.detail ? ` (${terminalSafe(r.detail)})` : '';
  return `replay ${r.id} of ${terminalSafe(r.integration)}: ${r.state}${detail}, ${parts.join(', ')}`;
}

const ended = (r: ReplayView) => r.state === 'done' || r.state === 'failed' || r.state === 'cancelled';

/**
 * `tbi replay`: reads a range of an integration's source history again through its current
 * uplink converter (`POST /api/integrations/:name/replays`) and follows the progress until it
 * ends; Ctrl-C stops following (the replay goes on in the host). Also lists, follows and cancels
 * replays. Exit 0 when it is done, 1 when it failed or was cancelled, 3 when there is no such
 * integration or replay.
 */
export function replayCommand(
  out: (text: string) => void,
  setExitCode: (code: number) => void,
  io: HostClientIo & { isTTY?: boolean; pollMs?: number } = {},
): Command {
  return withHostOptions(new Command('replay'))
    .description("read a range of an integration's source history again through its current uplink converter (kafka, pulsar, rabbitmq streams)")
    .argument('[integration]', 'name of the integration to replay')
    .option('--from <time|offset>', "first message: an ISO 8601 time (2026-12-01T10:00:00Z) or an offset in the connector's notation (1200, 0:1200,1:900)")
    .option('--to <time|offset>', 'stop before this time or offset (default: the end of the source as of the start)')
    .option('--no-follow', 'start it and return, without following the progress')
    .option('--list', 'list the replays of the host, newest first')
    .option('--watch <id>', 'follow a replay until it ends', replayId)
    .option('--cancel <id>', 'cancel a replay (what it stored stays stored)', replayId)
    .addHelpText(
      'after',
      `
Examples:
  tbi replay kafka-in --from 2026-12-01T00:00:00Z --to 2026-12-02T00:00:00Z
  tbi replay kafka-in --from 0:1200,1:900
  tbi replay --list
  tbi replay --cancel 3

Replayed values overwrite what is stored at the same device, key and timestamp; they are never
stored twice. A replay reads one batch at a time, so the live stream goes on beside it, and it
goes on after a restart of the host from its last stored batch.`,
    )
    .action(
      async (
        integration: string | undefined,
        opts: { from?: string; to?: string; follow: boolean; list?: boolean; watch?: number; cancel?: number; json?: boolean },
        command: Command,
      ) => {
        const client = hostClient(command, io);
        const print = (r: ReplayView) => out(opts.json ? `${JSON.stringify(r, null, 2)}\n` : `${describeReplay(r)}\n`);
        if (opts.list) {
          const { replays } = await client.api<{ replays: ReplayView[] }>('GET', '/replays');
          if (opts.json) return out(`${JSON.stringify(replays, null, 2)}\n`);
          if (replays.length === 0) return out('No replays.\n');
          const rows = replays.map((r) => [
            String(r.id),
            terminalSafe(r.integration),
            r.state,
            count(r.read),
            count(r.stored),
            count(r.failed),
            new Date(r.createdAt).toISOString(),
          ]);
          return out(`${textTable([['ID', 'INTEGRATION', 'STATE', 'READ', 'STORED', 'FAILED', 'STARTED'], ...rows]).join('\n')}\n`);
        }
        if (opts.cancel !== undefined) {
          const replay = await client.api<ReplayView>('DELETE', `/replays/${opts.cancel}`);
          return print(replay);
        }
        let replay: ReplayView;
        if (opts.watch !== undefined) replay = await client.api<ReplayView>('GET', `/replays/${opts.watch}`);
        else {
          if (!integration)
            return command.error('name the integration to replay (tbi replay <integration> --from …), or use --list, --watch or --cancel', { exitCode: 1 });
          if (!opts.from) return command.error('--from is required: an ISO 8601 time (2026-12-01T10:00:00Z) or an offset (1200)', { exitCode: 1 });
          replay = await client.api<ReplayView>('POST', `/integrations/${encodeURIComponent(integration)}/replays`, {
            from: opts.from,
            ...(opts.to ? { to: opts.to } : {}),
          });
          if (!opts.json) out(`Started replay ${replay.id} of ${terminalSafe(replay.integration)}.\n`);
        }
        if (!opts.follow || ended(replay)) return finish(replay, true);
        const tty = io.isTTY ?? process.stdout.isTTY === true;
        let detached = false;
        const onInt = () => {
          detached = true;
        };
        process.once('SIGINT', onInt);
        try {
          let lastPrinted = 0;
          while (!ended(replay) && !detached) {
            // A plain timer: `sleep` of the plugin API is unref'd, and it is all this process waits on.
            await new Promise((resolve) => setTimeout(resolve, io.pollMs ?? 1000));
            replay = await client.api<ReplayView>('GET', `/replays/${replay.id}`);
            if (opts.json) continue;
            if (tty) out(`\r\x1b[2K${describeReplay(replay)}`);
            else if (Date.now() - lastPrinted >= 5000 || ended(replay)) {
              lastPrinted = Date.now();
              out(`${describeReplay(replay)}\n`);
            }
          }
        } finally {
          process.removeListener('SIGINT', onInt);
        }
        if (tty && !opts.json) out('\n');
        if (detached) {
          out(`Stopped following: replay ${replay.id} goes on in the host (tbi replay --watch ${replay.id}; tbi replay --cancel ${replay.id}).\n`);
          return;
        }
        return finish(replay, opts.json === true);

        /** Sets the exit code; prints the replay unless following already did. */
        function finish(r: ReplayView, printIt: boolean) {
          if (printIt) print(r);
          if (r.state === 'failed' || r.state === 'cancelled') setExitCode(EXIT_REPLAY_FAILED);
        }
      },
    );
}
