// Measures of a benchmarked process for the suites of `pnpm bench` (Linux /proc).
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ of /proc/<pid>/stat on Linux

/**
 * CPU seconds (user + system) a process and all its descendants have used so far: the host with
 * its worker threads and its converter sandbox processes. Read before and after a case; the
 * difference over the messages stored is the CPU per message. Resolution 10 ms.
 */
export function processTreeCpuSeconds(pid) {
  let ticks = 0;
  const visit = (p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim().split(' ')) if (child !== '') visit(child);
      }
    } catch {
      // the process ended meanwhile
    }
  };
  visit(pid);
  return ticks / TICKS_PER_SECOND;
}
