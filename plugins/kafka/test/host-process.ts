// Starts a real `tbi start` process (the built host, host/bin/tbi.js) with a temporary config and
// this plugin listed by path, and waits until it reports "host started". (Same shape as
// plugins/http/test/host-process.ts, plus `kill()` for the SIGKILL tests.)
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const PLUGIN_DIR = path.resolve(import.meta.dirname, '..');
export const TBI_BIN = path.join(ROOT, 'host', 'bin', 'tbi.js');

export interface HostProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Every log line so far (JSON strings). */
  logs: string[];
  child: ChildProcess;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no clean shutdown at all (nothing committed, nothing released). */
  kill(): Promise<void>;
}

export interface HostProcessOptions {
  /** The config object, written as `tbi.yaml` (JSON is valid YAML) into `dir`. */
  config: Record<string, unknown>;
  dir: string;
  /** Interface to listen on (default 127.0.0.1); the port is always 0 (free port). */
  host?: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/** Spawns the host and resolves once it has started every integration. */
export async function startHostProcess(options: HostProcessOptions): Promise<HostProcess> {
  const configFile = path.join(options.dir, 'tbi.yaml');
  await writeFile(configFile, JSON.stringify(options.config, null, 2));
  const child = spawn(
    process.execPath,
    [TBI_BIN, 'start', '--config', configFile, '--port', '0', '--host', options.host ?? '127.0.0.1', '--no-pretty'],
    { cwd: options.dir, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const started = new Promise<string>((resolve, reject) => {
    let url: string | undefined;
    const timer = setTimeout(() => reject(new Error(`host did not start in time:\n${logs.join('\n')}`)), options.startTimeoutMs ?? 60_000);
    const onLine = (line: string) => {
      logs.push(line);
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

  const url = await started;
  return {
    url,
    logs,
    child,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
