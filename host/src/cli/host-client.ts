import { type Command, Option } from 'commander';
import { HOST_TARGET_HELP, resolveHostTarget, type HostTarget, type TargetOptions } from './host-target.js';

/** Exit code of a client command that cannot reach the host. */
export const EXIT_UNREACHABLE = 2;
/** Exit code of a client command whose integration or dead letter does not exist. */
export const EXIT_NOT_FOUND = 3;

/** How client commands reach the host; tests replace `fetch`. */
export interface HostClientIo {
  fetch?: typeof fetch;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Adds the options every client of a running host takes (`--url`, `--token`, `--config`,
 * `--json`) and the help paragraph on how they are resolved.
 */
export function withHostOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'base URL of the running host (default: TBI_URL, the config file, http://127.0.0.1:8080)'))
    .addOption(new Option('--token <token>', 'bearer token of the control API (default: TBI_TOKEN, auth.token of the config file)'))
    .option('-c, --config <file>', 'config file the host runs with, to find its address and token (default: tbi.yaml if present)')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', HOST_TARGET_HELP);
}

/** A client of one running host's HTTP surface, for one command. */
export interface HostClient {
  target: HostTarget;
  /** A JSON request under `/api`; a failure ends the command with a message and an exit code. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  /**
   * Any request (`/metrics`, `/readyz`, an event stream), with the token; answers with the
   * response whatever its status, and ends the command only when the host cannot be reached.
   */
  raw(path: string, init?: RequestInit): Promise<Response>;
  /** Ends the command for a non-2xx answer, naming the status and the host's error. */
  failFor(response: Response, text: string): never;
}

/**
 * The client for the command being run: resolves the host from the command's options (see
 * `resolveHostTarget`) and reports failures through `command.error`, so every client command
 * speaks the same way: exit 2 when the host cannot be reached, 3 when the thing is not there,
 * 1 otherwise.
 *
 * @example
 * const client = hostClient(command);
 * const { integrations } = await client.api<{ integrations: unknown[] }>('GET', '/integrations');
 */
export function hostClient(command: Command, io: HostClientIo = {}): HostClient {
  const target = resolveHostTarget(command.opts<TargetOptions>(), io.env ?? process.env, io.cwd ?? process.cwd());
  const base = target.url.endsWith('/') ? target.url : `${target.url}/`;

  const raw = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (target.token && !headers.has('authorization')) headers.set('authorization', `Bearer ${target.token}`);
    try {
      return await (io.fetch ?? fetch)(new URL(path.replace(/^\//, ''), base), { ...init, headers });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(cause)) {
        return command.error(
          `the host at ${target.url} presents a certificate this client does not trust (${cause}): set NODE_EXTRA_CA_CERTS to the file of its CA (or of the certificate itself) and try again.`,
          { exitCode: EXIT_UNREACHABLE },
        );
      }
      const from = target.urlFrom === 'config' ? ` (from ${target.configFile})` : target.urlFrom === 'env' ? ' (from TBI_URL)' : '';
      const note = target.note ? ` Note: ${target.note}.` : '';
      return command.error(`cannot reach the host at ${target.url}${from} (${cause}). Is it running? Set --url or TBI_URL.${note}`, {
        exitCode: EXIT_UNREACHABLE,
      });
    }
  };

  const failFor = (response: Response, text: string): never => {
    let message: unknown;
    try {
      message = (JSON.parse(text) as { error?: unknown }).error;
    } catch {
      message = undefined;
    }
    const hint = response.status === 401 ? " Pass --token or set TBI_TOKEN to the host's control token." : '';
    return command.error(`the host answered ${response.status}: ${typeof message === 'string' ? message : text || response.statusText}.${hint}`, {
      exitCode: response.status === 404 ? EXIT_NOT_FOUND : 1,
    });
  };

  return {
    target,
    raw,
    failFor,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await raw(`api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      if (!response.ok) failFor(response, text);
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },
  };
}
