// Starts a real `tbi start` process (the built host, host/bin/tbi.js) with a temporary config
// listing this plugin by path, and waits until it logs "host started". Needs `pnpm build` first
// (scripts/test.sh does it): the host imports the plugin's dist/.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');
export const TBI_BIN = path.join(ROOT, 'host', 'bin', 'tbi.js');

export interface HostProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Every log line so far. */
  logs: string[];
  child: ChildProcess;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, nothing is flushed or acknowledged. */
  kill(): Promise<void>;
  /** GET/POST on the control API with the token. */
  api(p: string, init?: RequestInit): Promise<{ status: number; body: any }>;
  /** One sample of the Prometheus text at /metrics (summed over label sets matching `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export interface HostProcessOptions {
  /** Written as `tbi.yaml` (JSON is valid YAML) into `dir`. */
  config: Record<string, unknown>;
  dir: string;
  token: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/** Spawns the host and resolves once it has started every integration. */
export async function startHostProcess(options: HostProcessOptions): Promise<HostProcess> {
  await mkdir(options.dir, { recursive: true });
  const configFile = path.join(options.dir, 'tbi.yaml');
  await writeFile(configFile, JSON.stringify(options.config, null, 2));
  const child = spawn(process.execPath, [TBI_BIN, 'start', '--config', configFile, '--port', '0', '--host', '127.0.0.1', '--no-pretty'], {
    cwd: options.dir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    let found: string | undefined;
    const timer = setTimeout(() => reject(new Error(`host did not start in time:\n${logs.join('\n')}`)), options.startTimeoutMs ?? 60_000);
    const onLine = (line: string) => {
      logs.push(line);
      let entry: { msg?: string; url?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (typeof entry.url === 'string' && found === undefined) found = entry.url;
      if (entry.msg === 'host started' && found !== undefined) {
        clearTimeout(timer);
        resolve(found);
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

  const headers = { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' };
  return {
    url,
    logs,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async api(p, init = {}) {
      const res = await fetch(`${url}/api${p}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body };
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
