import { Command, InvalidArgumentError } from 'commander';
import type { InstanceStatus } from '../lifecycle/integration-instance.js';
import { hostClient, withHostOptions, type HostClientIo } from './host-client.js';
import { messageCounts, type MessageCounts } from './metric-samples.js';
import { terminalSafe } from './terminal-text.js';
import { textTable } from './text-table.js';

/** Exit code of `tbi status` when the host answers but is not ready. */
export const EXIT_NOT_READY = 4;

/** One integration as `tbi status --json` prints it. */
export interface IntegrationReport extends InstanceStatus {
  messages: MessageCounts;
  /** Messages per second over the sampling interval; null with `--interval 0`. */
  perSecond: MessageCounts | null;
}

function seconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) > 60) throw new InvalidArgumentError('expected seconds from 0 to 60');
  return Number(value);
}

const ZERO: MessageCounts = { received: 0, stored: 0, failed: 0, deadLetters: 0 };

function rate(a: MessageCounts, b: MessageCounts, s: number): MessageCounts {
  const per = (k: keyof MessageCounts) => Math.max(0, Math.round(((b[k] - a[k]) / s) * 10) / 10);
  return { received: per('received'), stored: per('stored'), failed: per('failed'), deadLetters: per('deadLetters') };
}

/**
 * `tbi status`: the running host's readiness and, per integration, its type, state, health and
 * message counts with rates (two `/metrics` scrapes `--interval` seconds apart). Exit 0 when the
 * host is ready, 4 when it answers but is not, 2 when it cannot be reached.
 */
export function statusCommand(out: (text: string) => void, setExitCode: (code: number) => void, io: HostClientIo = {}): Command {
  return withHostOptions(new Command('status'))
    .description('show the integrations of a running host: state, health, message counts and rates, readiness')
    .option('--interval <seconds>', 'measure rates over this many seconds (0: counts only)', seconds, 1)
    .action(async (opts: { interval: number; json?: boolean }, command: Command) => {
      const client = hostClient(command, io);
      const scrape = async (): Promise<Map<string, MessageCounts>> => {
        const response = await client.raw('metrics');
        const text = await response.text();
        if (!response.ok) client.failFor(response, text);
        return messageCounts(text);
      };
      const { integrations } = await client.api<{ integrations: InstanceStatus[] }>('GET', '/integrations');
      const first = await scrape();
      let last = first;
      if (opts.interval > 0) {
        await new Promise((resolve) => setTimeout(resolve, opts.interval * 1000));
        last = await scrape();
      }
      const ready = (await client.raw('readyz')).status === 200;
      const reports: IntegrationReport[] = integrations.map((s) => ({
        ...s,
        messages: last.get(s.name) ?? ZERO,
        perSecond: opts.interval > 0 ? rate(first.get(s.name) ?? ZERO, last.get(s.name) ?? ZERO, opts.interval) : null,
      }));
      setExitCode(ready ? 0 : EXIT_NOT_READY);
      if (opts.json) {
        out(`${JSON.stringify({ url: client.target.url, ready, integrations: reports }, null, 2)}\n`);
        return;
      }
      out(`Host ${client.target.url}: ${ready ? 'ready' : 'NOT READY (an integration that should run is not up)'}\n`);
      if (reports.length === 0) {
        out('No integrations configured.\n');
        return;
      }
      const rows = [['NAME', 'TYPE', 'STATE', 'HEALTH', 'RECEIVED', 'STORED', 'FAILED', 'DEAD', 'IN/S', 'STORED/S', 'DETAIL']];
      for (const r of reports) {
        const detail = r.health.detail ?? r.error ?? (r.desired !== (r.state === 'running' ? 'running' : 'stopped') ? `desired: ${r.desired}` : '');
        rows.push([
          terminalSafe(r.name),
          terminalSafe(r.type),
          r.state,
          r.health.status,
          String(r.messages.received),
          String(r.messages.stored),
          String(r.messages.failed),
          String(r.messages.deadLetters),
          r.perSecond ? String(r.perSecond.received) : '-',
          r.perSecond ? String(r.perSecond.stored) : '-',
          terminalSafe(detail),
        ]);
      }
      out(`${textTable(rows).join('\n')}\n`);
    });
}
