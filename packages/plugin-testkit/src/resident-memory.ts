import { readFileSync } from 'node:fs';

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
