// A new user's project for the release rehearsal: an empty folder whose only registry is the
// rehearsal's, the README's commands run in it as a user types them, and the host they start.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface CommandResult {
  code: number | null;
  output: string;
}

/** An empty folder under `parent` with an `.npmrc` naming only `registryUrl` (npm and pnpm both read it). */
export async function emptyProject(parent: string, registryUrl: string, name: string): Promise<string> {
  const dir = await mkdtemp(path.join(parent, `${name}-`));
  await writeFile(path.join(dir, '.npmrc'), `registry=${registryUrl}\n`);
  return dir;
}

/** Splits a documented command line into words (the README's lines have no quoting). */
export function words(line: string): string[] {
  return line.trim().split(/\s+/);
}

/** Runs one command line in `cwd` to its end, output captured (stdout and stderr interleaved). */
export function run(line: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  const [command, ...args] = words(line);
  const child = spawn(command!, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Like `run`, but a non-zero exit is an error that carries the command's output. */
export async function mustRun(line: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await run(line, cwd, env);
  if (result.code !== 0) throw new Error(`\`${line}\` in ${cwd} exited with ${result.code}:\n${result.output}`);
  return result.output;
}

/** A host started by a documented command line (`npx tbi start`), logging JSON lines. */
export interface RunningHost {
  child: ChildProcess;
  /** Every JSON log line so far. */
  logs(): Array<Record<string, unknown>>;
  output(): string;
  /**
   * Ctrl-C as in a terminal: SIGINT to the command's process group (npx or pnpm and the host
   * under it), then how the command ended once every process of it closed its output.
   */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `line` in `cwd` and waits for the host's "host started" log line (or its exit). */
export async function startHost(line: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunningHost> {
  const [command, ...args] = words(line);
  // Its own process group, so that stopping it reaches the host under npx too.
  const child = spawn(command!, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const logs = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const host: RunningHost = {
    child,
    logs,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGINT');
        } catch {
          // already gone
        }
      }
      return exited;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!logs().some((l) => l.msg === 'host started')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await host.stop();
      throw new Error(`\`${line}\` in ${cwd} did not start the host:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return host;
}

/** Copies a sender of ./senders into the project, so it uses the project's own broker client. */
export async function installSender(project: string, type: string): Promise<string> {
  const file = `send-${type}.mjs`;
  await copyFile(path.join(import.meta.dirname, 'senders', file), path.join(project, file));
  return file;
}
