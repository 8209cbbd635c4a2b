import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

/** A running `tbi start` process. */
export interface HostProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Every log line so far (JSON strings; stderr lines prefixed with `[stderr]`). */
  logs: string[];
  child: ChildProcess;
  /** SIGTERM, then waits for the exit (SIGKILL after 30 s); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, nothing flushed, released or acknowledged. */
  kill(): Promise<void>;
  /** A request to the control API (`/api` + `p`) with the token; the body parsed as JSON when it is. */
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the route answers.
  api(p: string, init?: RequestInit): Promise<{ status: number; body: any }>;
  /** The sum of a Prometheus metric over the label sets that match `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export interface HostProcessOptions {
  /** The host config, written as `tbi.yaml` (JSON is valid YAML) into `dir`; or give `configFile`. */
  config?: Record<string, unknown>;
  /** An existing config file to run as it is (its relative paths resolve against its own folder). */
  configFile?: string;
  /** Working directory of the host; created if missing. */
  dir: string;
  /** Bearer token `api()` sends (the config should set the same `auth.token`). */
  token?: string;
  /** Interface to listen on (default 127.0.0.1); the port is always a free one. */
  host?: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /** Called with every stdout line as it arrives (also before "host started"), e.g. to time a phase. */
  onLog?: (line: string) => void;
}

/** Where the `tbi` executable of the installed `@tbi/host` is. */
export function tbiBin(): string {
  const hostPackage = createRequire(import.meta.url).resolve('@tbi/host/package.json');
  return path.join(path.dirname(hostPackage), 'bin', 'tbi.js');
}

/**
 * The Node.js flags the `tbi` executable runs with: those of its shebang line
 * (`#!/usr/bin/env -S node --no-node-snapshot …`), so that a host spawned with `process.execPath`
 * runs as the installed `tbi` command does (same V8 heap sizing, same snapshot setting).
 *
 * @example
 * spawn(process.execPath, [...tbiNodeFlags(), tbiBin(), 'validate', '-c', file]);
 */
export function tbiNodeFlags(bin = tbiBin()): string[] {
  const shebang = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  const flags = /^#!.*?\bnode\b(.*)$/.exec(shebang)?.[1] ?? '';
  return flags.split(/\s+/).filter((flag) => flag.startsWith('-'));
}

/**
 * Spawns `tbi start` with the given config and resolves once the host logged "host started"
 * (every integration attempted). Rejects with the log if it exits or does not start in time.
 *
 * @example
 * const host = await startHostProcess({ dir, token, config: { auth: { token }, plugins: [pluginDir], integrations } });
 * const devices = await host.api('/devices');
 * await host.stop();
 */
export async function startHostProcess(options: HostProcessOptions): Promise<HostProcess> {
  await mkdir(options.dir, { recursive: true });
  let configFile = options.configFile;
  if (configFile === undefined) {
    configFile = path.join(options.dir, 'tbi.yaml');
    await writeFile(configFile, JSON.stringify(options.config ?? {}, null, 2));
  }
  const bin = tbiBin();
  const args = [...tbiNodeFlags(bin), bin, 'start', '--config', configFile, '--port', '0', '--host', options.host ?? '127.0.0.1', '--no-pretty'];
  const child = spawn(process.execPath, args, {
    cwd: options.dir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await waitUntilStarted(child, logs, exited, options.startTimeoutMs ?? 60_000, options.onLog);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const gone = () => child.exitCode !== null || child.signalCode !== null;

  return {
    url,
    logs,
    child,
    async stop() {
      if (gone()) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (gone()) return;
      child.kill('SIGKILL');
      await exited;
    },
    async api(p, init = {}) {
      const res = await fetch(`${url}/api${p}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
      const text = await res.text();
      try {
        return { status: res.status, body: JSON.parse(text) };
      } catch {
        return { status: res.status, body: text };
      }
    },
    async metric(name, labels = {}) {
      const text = await (await fetch(`${url}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    },
  };
}

/** Collects log lines and resolves with the URL the host logged, once it logs "host started". */
function waitUntilStarted(
  child: ChildProcess,
  logs: string[],
  exited: Promise<number | null>,
  timeoutMs: number,
  onLog: ((line: string) => void) | undefined,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let url: string | undefined;
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`host did not start in ${timeoutMs} ms:\n${logs.join('\n')}`)), timeoutMs);
    const onLine = (line: string) => {
      logs.push(line);
      onLog?.(line);
      let entry: { msg?: string; url?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (typeof entry.url === 'string' && url === undefined) url = entry.url;
      if (entry.msg === 'host started' && url !== undefined) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      lines.filter(Boolean).forEach(onLine);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => logs.push(`[stderr] ${chunk.trimEnd()}`));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with code ${code} before it started:\n${logs.join('\n')}`));
    });
  });
}

/**
 * Runs `run`; when it throws, prints what each host logged last (its warnings and errors first) to
 * stderr, then throws again: a failed wait on a host process says why.
 *
 * @example
 * await withHostLogs(hosts, () => waitFor(() => storedTelemetry(dir, 'n', { prefix }).length === 100, '100 rows'));
 */
export async function withHostLogs<T>(hosts: readonly HostProcess[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    for (const h of hosts) {
      const lines = h.logs
        .filter((l) => /"level":(40|50|60)/.test(l))
        .slice(-15)
        .concat(h.logs.slice(-10));
      process.stderr.write(`--- host ${h.url} ---\n${lines.join('\n')}\n`);
    }
    throw error;
  }
}
