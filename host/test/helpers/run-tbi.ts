import { spawn, type ChildProcess } from 'node:child_process';
import { TBI_BIN } from './packed-project.js';

/** A `tbi start` child process and its output. */
export interface TbiProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Waits for a JSON log line matching `test`; rejects if the process exits first. */
  waitForLog(test: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Spawns the built `tbi` CLI with Node (`process.execPath`), collecting its output. */
export function spawnTbi(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): TbiProcess {
  const child = spawn(process.execPath, [TBI_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLog(test, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = () => {
          const found = lines().find(test);
          if (found) return resolve(found);
          if (child.exitCode !== null || Date.now() > deadline) {
            return reject(new Error(`no such log line (exit ${child.exitCode}).\nstdout:\n${out}\nstderr:\n${err}`));
          }
          setTimeout(poll, 50);
        };
        poll();
      });
    },
  };
}

/** Runs `tbi` to completion. */
export async function runTbi(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const p = spawnTbi(args, options);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
