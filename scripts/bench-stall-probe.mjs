// Preloaded into a benchmarked host process (`node --import`, set by scripts/bench-support.mjs
// through NODE_OPTIONS): measures how long its event loop stalls, where its memory goes and how
// long its garbage collections pause it. Every SIGUSR2 writes what was seen since the previous one
// to $TBI_BENCH_STALL_FILE (JSON, written whole then renamed, with this process's pid) and starts
// a new window, so a bench measures exactly the drain.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { PerformanceObserver, createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.TBI_BENCH_STALL_FILE;
// Only this process: the host's converter processes inherit its environment.
delete process.env.TBI_BENCH_STALL_FILE;
delete process.env.NODE_OPTIONS;

/** Memory is sampled this often (ms): `process.memoryUsage()` costs a few µs. */
const MEMORY_SAMPLE_MS = 250;
/** GC pauses at least this long are listed (ms). */
const LONG_GC_MS = 20;
/** The own-stall timer's period (ms), as the delay monitor's resolution. */
const TICK_MS = 5;
/**
 * Nanoseconds the main thread (its tid is the pid) has spent runnable but waiting for a CPU
 * (Linux schedstat, second field); NaN where there is none.
 */
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
const runQueueNs = () => {
  try {
    return Number(readFileSync(schedstat, 'utf8').split(' ')[1]);
  } catch {
    return Number.NaN;
  }
};

if (file !== undefined) {
  // 5 ms: fine enough for a 50 ms goal, coarse enough to cost the host next to nothing.
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let window = 0;
  // The same stalls less the time the thread waited for a CPU meanwhile: on a shared machine with
  // more runnable threads than cores, a thread that is ready but not scheduled looks stalled too.
  // What is left is the host's own work (its code and its GC pauses). In µs, as integers.
  const own = createHistogram();
  let waitedNs = 0;
  let lastAt = performance.now();
  let lastWait = runQueueNs();
  setInterval(() => {
    const now = performance.now();
    const wait = runQueueNs();
    const waited = (wait - lastWait) / 1e6;
    const late = now - lastAt - TICK_MS;
    if (Number.isFinite(waited)) {
      waitedNs += wait - lastWait;
      own.record(Math.max(1, Math.round((late - Math.min(waited, Math.max(0, late))) * 1000)));
    }
    lastAt = now;
    lastWait = wait;
  }, TICK_MS).unref();
  const mb = (bytes) => Math.round(bytes / 1048576);
  /** The memoryUsage() sample with the highest RSS in this window, and the highest of each part. */
  let atPeak;
  let maxOf = {};
  /** Every 4th sample (about one a second): [rss, heapTotal, heapUsed] MiB, for how memory moves over a drain. */
  let timeline = [];
  let samples = 0;
  const sample = () => {
    const m = process.memoryUsage();
    if (samples++ % 4 === 0 && timeline.length < 1200) timeline.push([mb(m.rss), mb(m.heapTotal), mb(m.heapUsed)]);
    if (atPeak === undefined || m.rss > atPeak.rss) atPeak = m;
    for (const [k, v] of Object.entries(m)) if (v > (maxOf[k] ?? 0)) maxOf[k] = v;
  };
  setInterval(sample, MEMORY_SAMPLE_MS).unref();
  // GC pauses by kind (perf_hooks constants: 1 minor (scavenge), 4 major (mark-compact), 8 incremental marking, 16 weak callbacks).
  let gc = {};
  let longGcs = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail?.kind ?? 0;
      const g = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      g.count += 1;
      g.totalMs += e.duration;
      if (e.duration > g.maxMs) g.maxMs = e.duration;
      if (e.duration >= LONG_GC_MS && longGcs.length < 50) longGcs.push({ kind, ms: Math.round(e.duration) });
    }
  }).observe({ entryTypes: ['gc'] });
  const write = (seen) => {
    writeFileSync(`${file}.tmp`, JSON.stringify({ pid: process.pid, ...seen }));
    renameSync(`${file}.tmp`, file);
  };
  write({ window }); // window 0: tells the bench this process's pid before the host logs anything
  process.on('SIGUSR2', () => {
    sample();
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    const memory = {
      atPeakMb: Object.fromEntries(Object.entries(atPeak).map(([k, v]) => [k, mb(v)])),
      maxMb: Object.fromEntries(Object.entries(maxOf).map(([k, v]) => [k, mb(v)])),
      timeline,
    };
    const gcs = Object.fromEntries(
      Object.entries(gc).map(([k, g]) => [k, { count: g.count, totalMs: Math.round(g.totalMs), maxMs: Math.round(g.maxMs * 10) / 10 }]),
    );
    const ownStall = { p999: Math.round(own.percentile(99.9) / 10) / 100, max: Math.round(own.max / 10) / 100, runQueueMs: Math.round(waitedNs / 1e6) };
    write({
      window: ++window,
      count: delay.count,
      p50: ms(delay.percentile(50)),
      p999: ms(delay.percentile(99.9)),
      max: ms(delay.max),
      ownStall,
      memory,
      gc: gcs,
      longGcs,
    });
    delay.reset();
    own.reset();
    waitedNs = 0;
    atPeak = undefined;
    maxOf = {};
    timeline = [];
    gc = {};
    longGcs = [];
  });
}
