// What the benches share: a measured `tbi start` process (CPU, resident memory and
// event-loop stalls of the whole host process), the same measures for a case run inside the
// bench process (the raw-client baselines), percentiles, and the count of stored messages.
// Every case reports the same columns (`MEASURE_COLUMNS`, `measureCells`), so the suites read alike.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
// By path: the root package does not depend on the testkit (benches need `pnpm build` anyway).
import { startHostProcess } from '../packages/plugin-testkit/dist/index.js';

const PROBE = pathToFileURL(path.join(import.meta.dirname, 'bench-stall-probe.mjs')).href;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @typedef {object} Usage What one case cost, measured over its drain.
 * @property {number} cpuUsPerMessage CPU time (user + system) of the whole process per message, µs.
 * @property {number} peakRssMb Peak resident memory of the process, MiB.
 * @property {number} finalRssMb Resident memory when the drain ended, MiB.
 * @property {number} stallP999Ms Event-loop delay, 99.9th percentile over the drain, ms.
 * @property {number} stallMaxMs Longest event-loop stall over the drain, ms.
 * @property {{ atPeakMb: Record<string, number>, maxMb: Record<string, number> }} [memory] a host's
 *   `process.memoryUsage()` (MiB) at its highest sampled RSS of the window, and each part's highest
 * @property {{ p999: number, max: number, runQueueMs: number }} [ownStall] a host's stalls (ms) less
 *   the time its main thread waited for a CPU meanwhile, and that waiting in all (Linux schedstat)
 * @property {Record<string, { count: number, totalMs: number, maxMs: number }>} [gc] a host's GC
 *   pauses by kind (1 scavenge, 4 mark-compact, 8 incremental marking, 16 weak callbacks)
 * @property {Array<{ kind: number, ms: number }>} [longGcs] a host's GC pauses of 20 ms or more
 * @property {CpuSplit} [split] Host processes only: where the CPU went, per message.
 */

/**
 * @typedef {object} CpuSplit CPU µs per message of a host, by thread, and of its converter processes.
 * @property {number} main The event loop's thread (connector, pipeline, IPC to the converter).
 * @property {number} writer The embedded platform's writer thread (worker_threads), and any other worker thread.
 * @property {number} v8 V8's helper threads (garbage collection, compilation).
 * @property {number} other libuv's thread pool and the rest.
 * @property {number} converter The converter child processes (isolated-vm).
 */

/**
 * The case groups a suite runs: those named in BENCH_CASES (comma-separated, e.g.
 * `BENCH_CASES=replay,export`) that the suite has, else all of them. A suite reports the groups it
 * ran (`cases`) and the group of each row and note (`rowCases`, `noteCases`), so that
 * scripts/bench.mjs keeps the rows of the groups it did not run from the last result.
 * @param {string[]} all the suite's groups, in the order of its table
 * @returns {string[]}
 */
export function selectedCases(all) {
  const wanted = (process.env.BENCH_CASES ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  return wanted.length === 0 ? all : all.filter((c) => wanted.includes(c));
}

/**
 * A suite's result line from its case groups (see `selectedCases`): the rows and notes of each
 * group that ran, tagged with it.
 * @param {{ suite: string, title: string, description: string, columns: string[], notes?: string[] }} head
 * @param {Array<{ name: string, rows: Array<Array<number | string>>, notes?: string[] }>} groups
 */
export function suiteResult(head, groups) {
  return {
    ...head,
    cases: groups.map((g) => g.name),
    rows: groups.flatMap((g) => g.rows),
    rowCases: groups.flatMap((g) => g.rows.map(() => g.name)),
    notes: [...groups.flatMap((g) => g.notes ?? []), ...(head.notes ?? [])],
    noteCases: [...groups.flatMap((g) => (g.notes ?? []).map(() => g.name)), ...(head.notes ?? []).map(() => '')],
  };
}

/**
 * The mean of every number in a list of like results (nested objects too), for a case run several
 * rounds. Lists (a host probe's long GC pauses…) are not averaged: the first round's is kept.
 * @template T
 * @param {T[]} list
 * @returns {T}
 */
export function average(list) {
  /** @type {any} */
  const out = {};
  for (const [key, value] of Object.entries(/** @type {any} */ (list[0]))) {
    if (typeof value === 'number') out[key] = list.reduce((sum, r) => sum + /** @type {any} */ (r)[key], 0) / list.length;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value) && list.every((r) => /** @type {any} */ (r)[key] != null)) {
      out[key] = average(list.map((r) => /** @type {any} */ (r)[key]));
    } else out[key] = value;
  }
  return out;
}

/** Columns every case of a connector bench reports, after its own (rate, baseline ratio…). */
export const MEASURE_COLUMNS = ['CPU µs/msg', 'peak RSS MB', 'final RSS MB', 'stall p99.9 ms', 'stall max ms'];

/**
 * The cells for `MEASURE_COLUMNS`.
 * @param {Usage | undefined} usage undefined: empty cells (a case that measured something else)
 * @returns {Array<number | string>}
 */
export function measureCells(usage) {
  if (usage === undefined) return MEASURE_COLUMNS.map(() => '');
  const r1 = (x) => Math.round(x * 10) / 10;
  return [r1(usage.cpuUsPerMessage), Math.round(usage.peakRssMb), Math.round(usage.finalRssMb), r1(usage.stallP999Ms), r1(usage.stallMaxMs)];
}

/**
 * One drain case as a row: its label, rate, ratio to the baseline's rate, the suite's own cells
 * (latency columns…), then `measureCells`.
 * @param {string} label
 * @param {{ rate: number, usage?: Usage }} result
 * @param {number} baselineRate
 * @param {Array<number | string>} [own] cells between the ratio and the measures
 * @returns {Array<number | string>}
 */
export function rateRow(label, result, baselineRate, own = []) {
  return [label, Math.round(result.rate), Number((result.rate / baselineRate).toFixed(3)), ...own, ...measureCells(result.usage)];
}

/**
 * CPU time so far and resident memory of a process (Linux /proc; clock ticks of 10 ms).
 * @param {number} pid
 * @returns {{ cpuMs: number, rssMb: number, peakRssMb: number }}
 */
export function processUsage(pid) {
  const cpuMs = statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { cpuMs, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/**
 * Percentiles of a list of numbers (nearest rank).
 * @param {number[]} values
 * @param {number[]} [qs] fractions, e.g. 0.5 for the median
 * @returns {Record<string, number>} keyed `p50`, `p99`, `p99.9` …
 */
export function percentiles(values, qs = [0.5, 0.99]) {
  const sorted = [...values].sort((a, b) => a - b);
  /** @type {Record<string, number>} */
  const out = {};
  for (const q of qs) out[`p${Math.round(q * 1000) / 10}`] = sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return out;
}

/**
 * Messages the embedded platform in `dataDir` marked as processed (0 before its database exists).
 * @param {string} dataDir
 */
export function processedCount(dataDir) {
  const file = path.join(dataDir, 'platform.db');
  if (!existsSync(file)) return 0;
  try {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      return Number(db.prepare('SELECT COUNT(*) AS n FROM processed_messages').get().n);
    } finally {
      db.close();
    }
  } catch {
    return 0; // the schema is not there yet
  }
}

/**
 * The host's pid as its probe wrote it at start (the testkit hands out the child process only
 * after "host started"; a drain can begin before).
 * @param {string} stallFile
 * @returns {number | undefined}
 */
function readPid(stallFile) {
  try {
    return JSON.parse(readFileSync(stallFile, 'utf8')).pid;
  } catch {
    return undefined;
  }
}

/**
 * @typedef {object} MeasuredHost A `tbi start` process whose costs are measured from one moment on.
 * @property {import('../packages/plugin-testkit/dist/index.js').HostProcess} process
 * @property {number} pid
 * @property {number} begunAt `performance.now()` when the measured window began
 * @property {() => number} beginNow begins the window again, now (a case the bench starts with a
 *   request once the host runs: a replay, an export); returns the new `begunAt`
 * @property {(messages: number) => Promise<Usage>} end ends the window: the costs of `messages` handled
 * @property {() => Promise<number | null>} stop
 */

/**
 * Starts `tbi start` (through the testkit) with the event-loop probe preloaded. The measured
 * window begins when the host logs a line containing `beginOn` (e.g. its connector's "connected"
 * line: a backlog drain starts there, before "host started"), else at "host started".
 * @param {import('../packages/plugin-testkit/dist/index.js').HostProcessOptions & { beginOn?: string }} options
 * @returns {Promise<MeasuredHost>}
 */
export async function startMeasuredHost({ beginOn, ...options }) {
  const stallFile = path.join(options.dir, 'stalls.json');
  /** @type {number | undefined} */
  let pid;
  /** @type {{ at: number, usage: ReturnType<typeof processUsage>, split: CpuSplit } | undefined} */
  let begun;
  let window = 0;
  const begin = () => {
    if (begun !== undefined || pid === undefined) return;
    begun = { at: performance.now(), usage: processUsage(pid), split: cpuSplitMs(pid) };
    window += 1;
    process.kill(pid, 'SIGUSR2'); // the probe starts a new window (what it saw before is dropped)
  };
  const host = await startHostProcess({
    ...options,
    env: { ...options.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${PROBE}`.trim(), TBI_BENCH_STALL_FILE: stallFile },
    onLog(line) {
      pid ??= readPid(stallFile);
      if (beginOn !== undefined && line.includes(beginOn)) begin();
    },
  });
  pid = /** @type {number} */ (host.child.pid);
  begin(); // at "host started" when `beginOn` was not seen
  let started = /** @type {NonNullable<typeof begun>} */ (begun);
  /** Asks the probe for the stalls since the window began. */
  const stalls = async () => {
    window += 1;
    host.child.kill('SIGUSR2');
    for (let i = 0; i < 500; i++) {
      try {
        const seen = JSON.parse(readFileSync(stallFile, 'utf8'));
        if (seen.window === window) return seen;
      } catch {
        // not written yet
      }
      await sleep(10);
    }
    throw new Error('the host did not answer the event-loop probe (SIGUSR2)');
  };
  return {
    process: host,
    pid,
    begunAt: started.at,
    beginNow() {
      begun = undefined;
      begin();
      started = /** @type {NonNullable<typeof begun>} */ (begun);
      this.begunAt = started.at;
      return started.at;
    },
    async end(messages) {
      const now = processUsage(/** @type {number} */ (pid));
      const splitNow = cpuSplitMs(/** @type {number} */ (pid));
      const seen = await stalls();
      return {
        cpuUsPerMessage: ((now.cpuMs - started.usage.cpuMs) * 1000) / messages,
        peakRssMb: now.peakRssMb,
        finalRssMb: now.rssMb,
        stallP999Ms: seen.p999,
        stallMaxMs: seen.max,
        ownStall: seen.ownStall,
        memory: seen.memory,
        gc: seen.gc,
        longGcs: seen.longGcs,
        split: /** @type {CpuSplit} */ (
          Object.fromEntries(Object.entries(splitNow).map(([k, v]) => [k, ((v - started.split[/** @type {keyof CpuSplit} */ (k)]) * 1000) / messages]))
        ),
      };
    },
    stop: () => host.stop(),
  };
}

/**
 * Measures a case run inside the bench process (a raw client baseline, the plugin with a no-op
 * pipeline): CPU of this process, its resident memory, its event-loop stalls. The peak is this
 * process's since it started (earlier cases included), so run the baselines first.
 * @template T
 * @param {number | ((result: T) => number)} messages what the case handled, for CPU per message
 *   (a function of its result when only the case knows, e.g. a drain that stalled)
 * @param {() => Promise<T>} fn
 * @returns {Promise<{ result: T, usage: Usage }>}
 */
export async function measureInProcess(messages, fn) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  const before = processUsage(process.pid);
  delay.enable();
  const result = await fn();
  delay.disable();
  const after = processUsage(process.pid);
  const handled = typeof messages === 'function' ? messages(result) : messages;
  return {
    result,
    usage: {
      cpuUsPerMessage: ((after.cpuMs - before.cpuMs) * 1000) / handled,
      peakRssMb: after.peakRssMb,
      finalRssMb: after.rssMb,
      stallP999Ms: delay.percentile(99.9) / 1e6,
      stallMaxMs: delay.max / 1e6,
    },
  };
}

const TICKS_PER_SECOND = 100; // USER_HZ of /proc/<pid>/stat on Linux

/** utime + stime (fields 14 and 15) of a /proc stat line, in ms. */
function statCpuMs(stat) {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/**
 * CPU ms so far of a host process by thread kind (from the thread names Node and V8 give:
 * `node` or `MainThread` for the event loop, `WorkerThread` for worker_threads, `V8Worker` for
 * V8's helpers), plus its child processes (the converter sandboxes).
 * @param {number} pid
 * @returns {CpuSplit} in ms, not per message
 */
function cpuSplitMs(pid) {
  const split = { main: 0, writer: 0, v8: 0, other: 0, converter: 0 };
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const kind = tid === String(pid) ? 'main' : name === 'WorkerThread' ? 'writer' : name.startsWith('V8') ? 'v8' : 'other';
      split[kind] += statCpuMs(stat);
    }
    split.converter = processTreeCpuSeconds(pid) * 1000 - Object.values(split).reduce((a, b) => a + b, 0);
  } catch {
    // the process ended meanwhile
  }
  return split;
}

/**
 * A note on where a host's CPU went, for a bench's notes.
 * @param {string} label which case
 * @param {Usage} usage from a measured host's `end`
 * @returns {string[]} one line, or none when the split was not measured
 */
export function cpuSplitNote(label, usage) {
  const s = usage.split;
  if (s === undefined) return [];
  const r1 = (x) => Math.round(x * 10) / 10;
  return [
    `${label}, CPU µs per message by thread: event loop ${r1(s.main)}, writer thread ${r1(s.writer)}, V8 helpers ${r1(s.v8)}, other ${r1(s.other)}; converter process ${r1(s.converter)}.`,
  ];
}

/**
 * CPU seconds (user + system) a process and all its descendants have used so far: the host with
 * its worker threads and its converter sandbox processes. Read before and after a case; the
 * difference over the messages stored is the CPU per message. Resolution 10 ms.
 * @param {number} pid
 * @returns {number}
 */
export function processTreeCpuSeconds(pid) {
  let ms = 0;
  const visit = (p) => {
    try {
      ms += statCpuMs(readFileSync(`/proc/${p}/stat`, 'utf8'));
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim().split(' ')) if (child !== '') visit(child);
      }
    } catch {
      // the process ended meanwhile
    }
  };
  visit(pid);
  return ms / 1000;
}

/**
 * CPU seconds so far of a broker started by scripts/brokers/*.sh (its process tree), found by the
 * pid file the script writes; undefined when there is none (a broker started some other way).
 * @param {string} pidFile
 * @returns {number | undefined}
 */
export function pidFileCpuSeconds(pidFile) {
  try {
    return processTreeCpuSeconds(Number(readFileSync(pidFile, 'utf8').trim()));
  } catch {
    return undefined;
  }
}

/**
 * CPU µs per message of a measured host together with its converter processes.
 * @param {Usage} usage from a measured host's `end`
 * @returns {number | undefined}
 */
export function hostAndConverterUs(usage) {
  return usage.split === undefined ? undefined : usage.cpuUsPerMessage + usage.split.converter;
}

/**
 * A replay in a measured host, as the replay benchmarks run it: waits for the integration to be
 * up, begins the host's measured window, starts the replay (`POST /api/integrations/:name/replays`
 * with `body`) and follows it until it is no longer running or waiting. `onStarted` is called once
 * it runs (e.g. to start live traffic beside it) and is given whether it has ended, to poll.
 * @param {MeasuredHost} host
 * @param {string} integration
 * @param {{ from: string, to?: string }} body
 * @param {(ended: () => boolean) => void} [onStarted]
 * @returns {Promise<any>} the replay as `GET /api/replays/:id` shows it at the end
 */
export async function followHostReplay(host, integration, body, onStarted) {
  const api = host.process.api;
  for (let i = 0; (await api(`/integrations/${integration}`)).body.health?.status !== 'up'; i++) {
    if (i > 300) throw new Error(`integration ${integration} did not come up in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  host.beginNow();
  const started = await api(`/integrations/${integration}/replays`, { method: 'POST', body: JSON.stringify(body) });
  if (started.status !== 202) throw new Error(`POST /api/integrations/${integration}/replays: ${started.status} ${JSON.stringify(started.body)}`);
  let replay = started.body;
  const ended = () => replay.state !== 'running' && replay.state !== 'waiting';
  onStarted?.(ended);
  const deadline = performance.now() + 600_000;
  while (!ended()) {
    if (performance.now() > deadline) throw new Error(`the replay did not finish in 10 min: ${JSON.stringify(replay)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    replay = (await api(`/replays/${replay.id}`)).body;
  }
  return replay;
}

/**
 * Ends a host replay case: the host's costs for `n` messages, after checking that the replay is
 * done with `n` read and stored and that the platform holds `rows` (= `n`) rows for it.
 * @param {MeasuredHost} host
 * @param {any} replay as `followHostReplay` returned it
 * @param {number} n
 * @param {number} rows the rows the platform holds for the replayed messages
 * @returns {Promise<{ rate: number, usage: Usage, treeUsPerMessage: number | undefined }>}
 */
export async function hostReplayResult(host, replay, n, rows) {
  const usage = await host.end(n);
  if (replay.state !== 'done' || replay.read !== n || replay.stored !== n || rows !== n) {
    throw new Error(`replay ${replay.state}: read ${replay.read}, stored ${replay.stored} (${rows} rows in the platform) of ${n}: ${replay.detail ?? ''}`);
  }
  return { rate: n / ((replay.finishedAt - replay.createdAt) / 1000), usage, treeUsPerMessage: hostAndConverterUs(usage) };
}
