import { readFileSync } from 'node:fs';
import { eventually } from './wait-for.js';

/** What a `residentMemory` sampler saw. */
export interface ResidentMemory {
  /** Resident set sizes in MiB, one per sample, oldest first. */
  samples: number[];
  /** The largest sample in MiB (0 before the first). */
  peakMb: number;
}

/** A running sampler: `stop()` ends it and returns everything it saw. */
export interface ResidentMemorySampler {
  /** What it saw so far, without stopping. */
  readonly seen: ResidentMemory;
  stop(): ResidentMemory;
}

/** The current resident set size of a process in MiB (`VmRSS` of `/proc/<pid>/status`, Linux). */
export function residentMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status (has the process exited?)`);
  return Number(match[1]) / 1024;
}

/**
 * Samples a process's resident memory every `intervalMs` until stopped, for tests that bound what
 * a host holds while it works (a sample after the process exited is skipped).
 *
 * @example
 * const rss = residentMemory(host.child.pid!);
 * await drain();
 * expect(rss.stop().peakMb).toBeLessThan(256);
 */
export function residentMemory(pid: number, intervalMs = 100): ResidentMemorySampler {
  const samples: number[] = [];
  let peakMb = 0;
  const sample = () => {
    try {
      const mb = residentMb(pid);
      samples.push(mb);
      peakMb = Math.max(peakMb, mb);
    } catch {
      // the process is gone: nothing to sample
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    get seen() {
      return { samples: [...samples], peakMb };
    },
    stop() {
      clearInterval(timer);
      sample();
      return { samples, peakMb };
    },
  };
}

/** What a process's resident memory did while it drained a backlog. */
export interface DrainMemory extends ResidentMemory {
  /** Whether `progress` reached the total before the time limit. */
  drained: boolean;
  /** The peak in MiB when half of the backlog was done: the rest of the drain should stay near it. */
  firstHalfPeakMb: number;
}

/**
 * Samples a process's resident memory while it drains `total` messages, polling `progress` (e.g.
 * a host metric of acknowledged messages) every 100 ms until it reaches `total` or `timeoutMs`.
 *
 * @example
 * const drain = await drainMemory(host.child.pid!, () => host.metric('tbi_messages_stored_total'), 400_000);
 * expect(drain.peakMb).toBeLessThan(512);
 * expect(drain.peakMb - drain.firstHalfPeakMb).toBeLessThan(100); // flat, not growing with the backlog
 */
export async function drainMemory(pid: number, progress: () => Promise<number>, total: number, timeoutMs = 300_000): Promise<DrainMemory> {
  const rss = residentMemory(pid);
  let firstHalfPeakMb = 0;
  try {
    const drained = await eventually(
      async () => {
        const done = await progress();
        if (firstHalfPeakMb === 0 && done >= total / 2) firstHalfPeakMb = rss.seen.peakMb;
        return done >= total;
      },
      timeoutMs,
      100,
    );
    return { drained, firstHalfPeakMb, ...rss.stop() };
  } finally {
    rss.stop();
  }
}
