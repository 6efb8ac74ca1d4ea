/**
 * CPU time of a local workerd process, read from Linux's /proc, for the benches that count
 * what the Worker costs in CPU rather than in wall time. This VM is shared and busy: a thread
 * that waits for a core still runs up wall time (and a sampling profiler's "active" time),
 * but not `sum_exec_runtime`, the nanoseconds it actually ran, which schedstat reports per
 * thread. Summed over the process's threads, that is the CPU the Worker's work took.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The workerd processes `parent` started (Miniflare spawns workerd directly). */
export function workerdChildren(parent = process.pid): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so split after its closing parenthesis
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'workerd' && ppid === parent) pids.push(Number(name));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
}

/** The one workerd process `parent` runs; throws when there is none or more than one. */
export function theWorkerd(parent = process.pid): number {
  const pids = workerdChildren(parent);
  if (pids.length !== 1) throw new Error(`expected one workerd child of ${parent}, found ${pids.length}`);
  return pids[0]!;
}

export interface CpuReading {
  /** nanoseconds on a core, summed over the threads alive at the reading */
  readonly ns: number;
  /** the thread ids read, to tell whether a thread came or went between two readings */
  readonly threads: string;
}

/** Time on a core of every thread of `pid` (schedstat's first field, ns). */
export function onCpu(pid: number): CpuReading {
  const tids = readdirSync(`/proc/${pid}/task`).sort();
  let ns = 0;
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return { ns, threads: tids.join(',') };
}

/** CPU milliseconds between two readings; throws if a thread ended in between (its time would be lost). */
export function cpuMsBetween(a: CpuReading, b: CpuReading): number {
  const before = new Set(a.threads.split(','));
  for (const tid of b.threads.split(',')) before.delete(tid);
  if (before.size > 0) throw new Error(`workerd threads ${[...before].join(', ')} ended during the measurement`);
  return (b.ns - a.ns) / 1e6;
}
