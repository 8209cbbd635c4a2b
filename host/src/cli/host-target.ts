import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@tbi/plugin-api';
import { interpolateEnv } from '../config/interpolate-env.js';
import { parseSource } from '../config/source-positions.js';
import { optionalConfigFile } from './config-option.js';

/** The URL a client uses when neither a flag, the environment nor a config file names one. */
export const DEFAULT_HOST_URL = 'http://127.0.0.1:8080';

/** Where a client setting came from, strongest first. */
export type TargetSource = 'flag' | 'env' | 'config' | 'default';

/** The running host a client command talks to. */
export interface HostTarget {
  url: string;
  token: string | undefined;
  /** For messages: which setting chose the URL (and the config file, when it did). */
  urlFrom: TargetSource;
  tokenFrom: TargetSource | undefined;
  configFile: string | undefined;
  /** Why the URL may be wrong (a config file that listens on a port picked at start). */
  note?: string;
}

/** The client options as commander parsed them (no defaults, no env: resolved here). */
export interface TargetOptions {
  url?: string;
  token?: string;
  config?: string;
}

/**
 * How a client command finds the host: flags > `TBI_URL`/`TBI_TOKEN` > the config file's
 * `http.host`/`http.port`/`http.tls` and `auth.token` (after `${env:…}` interpolation) > the default
 * `http://127.0.0.1:8080`. The config file is `--config`, else `tbi.yaml` (`.yml`, `.json`) in the
 * current directory when there is one. Only `http` and `auth` are read, so a config whose other
 * parts do not validate (or need variables this shell lacks) still tells the client where to go.
 *
 * @example
 * resolveHostTarget({}, { TBI_URL: 'http://10.0.0.5:9000' }).url // 'http://10.0.0.5:9000'
 */
export function resolveHostTarget(opts: TargetOptions, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): HostTarget {
  const configFile = optionalConfigFile(opts.config, cwd);
  const fromFile = configFile === undefined ? undefined : readTarget(configFile, env, cwd);
  const envUrl = nonEmpty(env.TBI_URL);
  const envToken = nonEmpty(env.TBI_TOKEN);
  const [url, urlFrom] = pick<string>([opts.url, 'flag'], [envUrl, 'env'], [fromFile?.url, 'config'], [DEFAULT_HOST_URL, 'default']);
  const [token, tokenFrom] = pick<string | undefined>([opts.token, 'flag'], [envToken, 'env'], [fromFile?.token, 'config'], [undefined, undefined]);
  const target: HostTarget = { url: url!, token, urlFrom: urlFrom!, tokenFrom, configFile };
  if (urlFrom === 'default' && fromFile?.note) target.note = fromFile.note;
  return target;
}

/** Help text every client command shows. */
export const HOST_TARGET_HELP = `
Finding the host: --url and --token, else the environment variables TBI_URL and TBI_TOKEN, else
the config file (--config, or tbi.yaml in the current directory): http.host, http.port, http.tls
and auth.token, after \${env:...} interpolation; else ${DEFAULT_HOST_URL} without a token.`;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function pick<T>(...candidates: Array<[T | undefined, TargetSource | undefined]>): [T | undefined, TargetSource | undefined] {
  return candidates.find(([value]) => value !== undefined) ?? candidates[candidates.length - 1]!;
}

/** The URL and token a host started with this config file listens with. */
function readTarget(file: string, env: NodeJS.ProcessEnv, cwd: string): { url?: string; token?: string; note?: string } {
  let text: string;
  try {
    text = readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : String(cause);
    throw new ConfigError({ file, path: '', expected: `a readable config file to find the host in (${reason})`, cause });
  }
  const parsed = parseSource(text, file);
  const tree = (parsed.tree ?? {}) as { http?: unknown; auth?: unknown };
  const { value, problems } = interpolateEnv({ http: tree.http ?? {}, auth: tree.auth ?? {} }, env, file, parsed.locate);
  // Only the blocks the client needs are interpolated, so an unset variable here is one it needs.
  if (problems.length > 0) throw problems[0];
  const { http, auth } = value as { http: Record<string, unknown>; auth: Record<string, unknown> };
  const token = typeof auth.token === 'string' && auth.token !== '' ? auth.token : undefined;
  const port = http.port === undefined ? 8080 : Number(http.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    // Port 0 is a free port picked at start, which the file cannot tell.
    return { token, note: `${file} sets http.port ${String(http.port)}, so the port is only known to the running host (its "host started" log line)` };
  }
  const scheme = http.tls ? 'https' : 'http';
  return { url: `${scheme}://${connectHost(typeof http.host === 'string' ? http.host : '0.0.0.0')}:${port}`, token };
}

/** A wildcard listen address is reached on loopback; an IPv6 literal needs brackets in a URL. */
function connectHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
