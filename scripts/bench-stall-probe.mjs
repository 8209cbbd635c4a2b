// Preloaded into a benchmarked host process (`node --import`, set by scripts/bench-support.mjs
// through NODE_OPTIONS): measures how long its event loop stalls. Every SIGUSR2 writes what was
// seen since the previous one to $TBI_BENCH_STALL_FILE (JSON, written whole then renamed, with
// this process's pid) and starts a new window, so a bench measures exactly the drain.
import { renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.TBI_BENCH_STALL_FILE;
// Only this process: the host's converter processes inherit its environment.
delete process.env.TBI_BENCH_STALL_FILE;
delete process.env.NODE_OPTIONS;

if (file !== undefined) {
  // 5 ms: fine enough for a 50 ms goal, coarse enough to cost the host next to nothing.
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let window = 0;
  const write = (seen) => {
    writeFileSync(`${file}.tmp`, JSON.stringify({ pid: process.pid, ...seen }));
    renameSync(`${file}.tmp`, file);
  };
  write({ window }); // window 0: tells the bench this process's pid before the host logs anything
  process.on('SIGUSR2', () => {
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    write({ window: ++window, count: delay.count, p50: ms(delay.percentile(50)), p999: ms(delay.percentile(99.9)), max: ms(delay.max) });
    delay.reset();
  });
}
