import { type Command, InvalidArgumentError } from 'commander';
import { hostClient, withHostOptions as withConnection, type HostClientIo } from '../cli/host-client.js';
import { terminalSafe } from '../cli/terminal-text.js';
import { textTable } from '../cli/text-table.js';
import type { ReplayReport } from '../pipeline/replay.js';
import type { DeadLetterPage, DeadLetterView } from './dead-letter-view.js';

/** Where the `tbi dlq` commands write and how they reach the host; tests replace both. */
export interface DlqCommandIo extends HostClientIo {
  /** Receives each line of normal output (default: stdout). */
  out?: (line: string) => void;
}

interface ConnectionOptions {
  json?: boolean;
}

function positiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

function nonNegativeInt(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

const time = (ms: number | null): string =>
  ms === null
    ? '-'
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');

/** One table cell: payload-derived text on one line, escaped, cut to `width`. */
function clip(text: string, width: number): string {
  const line = terminalSafe(text.replace(/\s+/g, ' '));
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

function preview(letter: DeadLetterView): string {
  const p = letter.payload;
  return p.text !== undefined ? p.text : `<${p.size} bytes binary> ${p.base64}`;
}

/**
 * Adds `tbi dlq list|show|replay|purge`: the host's dead letters, through the control API of a
 * running host, found as every client command finds it (`hostClient`: flags, `TBI_URL`/`TBI_TOKEN`,
 * the config file, the default port). Text that came from messages is escaped for the terminal.
 *
 * @example
 * const program = new Command('tbi');
 * registerDlqCommands(program);
 * await program.parseAsync(['node', 'tbi', 'dlq', 'list', '--integration', 'mqtt-1']);
 */
export function registerDlqCommands(program: Command, io: DlqCommandIo = {}): Command {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dlq = program.command('dlq').description('list, inspect, replay and purge the dead letters of a running host (messages whose conversion failed)');

  const call = <T>(command: Command, method: string, path: string, body?: unknown): Promise<T> => hostClient(command, io).api<T>(method, path, body);
  // Every string shown in human output may come from a message: escape it (JSON stays exact).
  const safe = (text: string) => terminalSafe(text);

  const print = (command: Command, json: unknown, human: () => void): void => {
    if (command.opts<ConnectionOptions>().json) out(JSON.stringify(json, null, 2));
    else human();
  };

  withConnection(dlq.command('list'))
    .description('list dead letters, oldest first')
    .option('-i, --integration <name>', 'only this integration')
    .option('-l, --limit <n>', 'at most this many', positiveInt, 50)
    .option('-o, --offset <n>', 'skip this many', nonNegativeInt, 0)
    .action(async (opts: { integration?: string; limit: number; offset: number }, command: Command) => {
      const query = new URLSearchParams({ limit: String(opts.limit), offset: String(opts.offset) });
      if (opts.integration) query.set('integration', opts.integration);
      const page = await call<DeadLetterPage>(command, 'GET', `/dead-letters?${query}`);
      print(command, page, () => {
        if (page.items.length === 0) {
          out(page.total === 0 ? 'No dead letters.' : `No dead letters at offset ${page.offset} (${page.total} in all).`);
          return;
        }
        const rows = [['ID', 'INTEGRATION', 'FAILED AT', 'TRIES', 'ERROR', 'PAYLOAD']];
        for (const l of page.items) {
          rows.push([
            String(l.id),
            clip(l.integration, 40),
            time(l.updatedAt),
            String(l.attempts),
            clip(`${l.error.kind}: ${l.error.message}`, 50),
            clip(preview(l), 40),
          ]);
        }
        for (const line of textTable(rows)) out(line);
        const last = page.offset + page.items.length;
        const more = last < page.total ? ` (next page: --offset ${last})` : '';
        out(`${page.offset + 1}-${last} of ${page.total} dead letters${more}`);
      });
    });

  withConnection(dlq.command('show'))
    .description('show one dead letter with its whole payload, metadata and error')
    .argument('<id>', 'dead letter id (from `tbi dlq list`)', positiveInt)
    .action(async (id: number, _opts: unknown, command: Command) => {
      const l = await call<DeadLetterView>(command, 'GET', `/dead-letters/${id}`);
      print(command, l, () => {
        out(`Dead letter ${l.id} of integration ${safe(l.integration)}`);
        out(`  error:       ${safe(`${l.error.kind}: ${l.error.message}${l.error.path ? ` (at ${l.error.path})` : ''}`)}`);
        out(`  attempts:    ${l.attempts}`);
        out(`  first/last:  ${time(l.createdAt)} / ${time(l.updatedAt)}`);
        out(`  received:    ${time(l.receivedAt)}`);
        if (l.sourceId) out(`  source id:   ${safe(l.sourceId)}`);
        out('  metadata:');
        for (const [k, v] of Object.entries(l.metadata)) out(`    ${safe(k)}: ${safe(v)}`);
        out(`  payload (${l.payload.size} bytes${l.payload.text === undefined ? ', binary, Base64' : ''}):`);
        out(l.payload.text === undefined ? l.payload.base64 : terminalSafe(l.payload.text, { keepLayout: true }));
      });
    });

  withConnection(dlq.command('replay'))
    .description("run dead letters again through their integration's current uplink converter; stored ones are removed")
    .option('-i, --integration <name>', 'only this integration')
    .option('--id <ids...>', 'only these ids', (v: string, prev: number[] = []) => [...prev, positiveInt(v)])
    .action(async (opts: { integration?: string; id?: number[] }, command: Command) => {
      const report = await call<ReplayReport>(command, 'POST', '/dead-letters/replay', { integration: opts.integration, ids: opts.id });
      print(command, report, () => {
        if (report.selected === 0) return out('No dead letters matched.');
        out(`Replayed ${report.selected} dead letters: ${report.stored} stored and removed, ${report.failed} failed again (kept), ${report.skipped} skipped.`);
        if (report.notRunning.length > 0) out(`Not running, so skipped: ${safe(report.notRunning.join(', '))}. Start them and replay again.`);
        if (report.failed > 0) out('See why with `tbi dlq list`; fix the converter, then replay again.');
      });
    });

  withConnection(dlq.command('purge'))
    .description('delete dead letters for good')
    .option('-i, --integration <name>', 'only this integration')
    .option('--id <ids...>', 'only these ids', (v: string, prev: number[] = []) => [...prev, positiveInt(v)])
    .option('--all', 'every dead letter of every integration')
    .action(async (opts: { integration?: string; id?: number[]; all?: boolean }, command: Command) => {
      if (!opts.integration && !opts.id && !opts.all) {
        return command.error('say what to purge: --integration <name>, --id <ids...>, or --all', { exitCode: 1 });
      }
      const query = new URLSearchParams();
      if (opts.integration) query.set('integration', opts.integration);
      if (opts.id) query.set('ids', opts.id.join(','));
      const result = await call<{ deleted: number }>(command, 'DELETE', `/dead-letters${query.size ? `?${query}` : ''}`);
      print(command, result, () => out(`Deleted ${result.deleted} dead letter${result.deleted === 1 ? '' : 's'}.`));
    });

  return dlq;
}
