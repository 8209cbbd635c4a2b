import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { DebugEvent } from '../debug-events/debug-ring.js';
import { EXIT_UNREACHABLE, hostClient, withHostOptions, type HostClientIo } from './host-client.js';
import { readServerSentEvents } from './sse-reader.js';
import { terminalSafe } from './terminal-text.js';

/** Outcomes that are not failures; everything else (`failed`, `dead-lettered`) is one. */
const SUCCESSES = new Set(['stored', 'sent', 'queued']);

function positiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

function oneLine(value: unknown, width = 160): string {
  const text = terminalSafe((typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).replace(/\s+/g, ' '));
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** An event as a few readable lines; every message-derived string escaped for the terminal. */
export function formatDebugEvent(e: DebugEvent): string {
  const t = e.timings;
  const took = [
    t.convertMs === undefined ? '' : `convert ${t.convertMs} ms`,
    t.storeMs === undefined ? '' : `store ${t.storeMs} ms`,
    t.sendMs === undefined ? '' : `send ${t.sendMs} ms`,
  ]
    .filter(Boolean)
    .join(', ');
  const lines = [
    `${new Date(e.time).toISOString()}  #${e.id}  ${e.type} ${terminalSafe(e.status)}${e.in.deviceName ? `  ${oneLine(e.in.deviceName, 60)}` : ''}${took ? `  (${took})` : ''}`,
  ];
  const p = e.in.payload;
  if (p)
    lines.push(
      `  in:       ${p.text !== undefined ? oneLine(p.text) : `<${p.size} bytes binary> ${p.base64.slice(0, 80)}`}${p.truncated ? ' (truncated)' : ''}`,
    );
  if (e.in.msg !== undefined) lines.push(`  msg:      ${e.in.msgType ? `${terminalSafe(e.in.msgType)} ` : ''}${oneLine(e.in.msg)}`);
  const metadata = Object.entries(e.in.metadata ?? {});
  if (metadata.length > 0) lines.push(`  metadata: ${oneLine(metadata.map(([k, v]) => `${k}=${v}`).join(' '))}`);
  if (e.out !== undefined) lines.push(`  out:      ${oneLine(e.out)}`);
  if (e.error)
    lines.push(`  error:    ${oneLine(`${e.error.kind ? `${e.error.kind}: ` : ''}${e.error.message}${e.error.path ? ` (at ${e.error.path})` : ''}`, 400)}`);
  for (const log of e.logs ?? []) lines.push(`  log:      ${oneLine(`${log.level} ${log.message}`, 400)}`);
  return lines.join('\n');
}

/**
 * `tbi events <integration>`: follows the integration's live debug events (the
 * `/api/integrations/:name/events/stream` Server-Sent Events route), pretty by default, one JSON
 * object per line with `--json`. Runs until Ctrl-C, `--count` events, or the stream ends (the
 * integration stopped or was reloaded).
 */
export function eventsCommand(out: (text: string) => void, err: (text: string) => void, io: HostClientIo = {}): Command {
  return withHostOptions(new Command('events'))
    .description("follow an integration's live debug events (converter runs: payload, metadata, output, errors, logs)")
    .argument('<integration>', 'name of a running integration')
    .option('--failures', 'only failed runs (dead-lettered, failed)')
    .option('--recent', 'first print the recent events the host still holds')
    .option('-n, --count <n>', 'exit after this many events', positiveInt)
    .addHelpText(
      'after',
      '\nWhich runs are recorded is the integration\'s debug mode (debug.mode in the config, default "failures",\nor PUT /api/integrations/<name>/debug {"mode":"all"}): in mode "failures" successful runs are not seen here.',
    )
    .action(async (name: string, opts: { failures?: boolean; recent?: boolean; count?: number; json?: boolean }, command: Command) => {
      const client = hostClient(command, io);
      const path = `/integrations/${encodeURIComponent(name)}`;
      const debug = await client.api<{ mode: string; size: number }>('GET', `${path}/debug`);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let seen = 0;
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (opts.recent) headers['last-event-id'] = '0';
        const response = await client.raw(`api${path}/events/stream`, { headers, signal: abort.signal });
        if (!response.ok || !response.body) client.failFor(response, await response.text());
        const recording =
          debug.mode === 'off'
            ? 'nothing: debug mode is off'
            : debug.mode === 'failures'
              ? 'failed runs only (debug mode "failures")'
              : 'every run (debug mode "all")';
        err(`Following ${terminalSafe(name)} at ${client.target.url}; the host records ${recording}. Ctrl-C to stop.\n`);
        for await (const sse of readServerSentEvents(response.body!)) {
          if (sse.event === 'dropped') {
            err(`(${(JSON.parse(sse.data) as { dropped: number }).dropped} events dropped: this terminal read more slowly than they came)\n`);
            continue;
          }
          const event = JSON.parse(sse.data) as DebugEvent;
          if (opts.failures && SUCCESSES.has(event.status)) continue;
          out(opts.json ? `${JSON.stringify(event)}\n` : `${formatDebugEvent(event)}\n`);
          if (opts.count !== undefined && ++seen >= opts.count) break;
        }
        if (!abort.signal.aborted && (opts.count === undefined || seen < opts.count)) {
          err(`The stream ended: ${terminalSafe(name)} stopped, was reloaded, or the host is shutting down.\n`);
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        if (error instanceof CommanderError) throw error;
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        command.error(`lost the connection to the host at ${client.target.url} (${cause}).`, { exitCode: EXIT_UNREACHABLE });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        abort.abort();
      }
    });
}
