// What one task cost the process that ran it (a local worker, or a batch job): CPU seconds and
// peak resident memory. Measured around the task only, never part of a key or an artifact.
//
// CPU: process.cpuUsage() before and after (every thread of the process), plus, on Linux, the
// CPU of child processes the task started and that ended meanwhile (/proc/self/stat cutime and
// cstime). A worker runs one task at a time, so the difference is that task's.
//
// Peak RSS: a worker lives for many tasks and the kernel's peak (maxRSS) only ever rises. On
// Linux (4.0+) writing 5 to /proc/self/clear_refs resets that peak to the current RSS, so the
// peak read at the task's end (VmHWM) is the highest RSS the process reached while it ran the
// task: exact, and free (no sampling). It includes what the process held when the task began
// (Node and the project's code, some 50-100 MB, and garbage of earlier tasks not yet collected),
// as Nextflow's peak_rss includes its interpreter. Where the reset is not possible, the process's lifetime peak is recorded: exact
// when it rose during the task, otherwise only an upper bound; `peakRssScope` says which.
import { readFileSync, writeFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';

export const TaskResourcesSchema = Type.Object({
  /** user + system CPU seconds: userS + sysS */
  cpuS: Type.Number({ minimum: 0 }),
  userS: Type.Number({ minimum: 0 }),
  sysS: Type.Number({ minimum: 0 }),
  /** Of cpuS: child processes the task started (Linux; 0 elsewhere). */
  childCpuS: Type.Number({ minimum: 0 }),
  peakRssBytes: Type.Integer({ minimum: 0 }),
  /**
   * 'task': the peak RSS of the process while it ran this task. 'process': the peak over the
   * process's life so far (the task's own peak may be lower).
   */
  peakRssScope: Type.Union([Type.Literal('task'), Type.Literal('process')]),
});
/** A task's CPU and memory, as its record holds them. */
export type TaskResources = Static<typeof TaskResourcesSchema>;

const TICKS_PER_S = 100; // USER_HZ: what /proc reports times in on every Linux ABI Node runs on

/** Reaped children's user and system CPU seconds (Linux), or zeros. */
function childCpu(): { user: number; sys: number } {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3; cutime 16, cstime 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[13]) / TICKS_PER_S, sys: Number(f[14]) / TICKS_PER_S };
  } catch {
    return { user: 0, sys: 0 };
  }
}

/** Resets the kernel's peak RSS of this process to its current RSS; false where it cannot. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The process's peak RSS in bytes: VmHWM where /proc has it, else getrusage's maxRSS. */
function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

const round3 = (s: number): number => Math.round(s * 1000) / 1000;

/** Starts measuring; the function returned gives what the process used since. */
export function measureTask(): () => TaskResources {
  const reset = resetPeakRss();
  const peakBefore = peakRss();
  const cpu = process.cpuUsage();
  const child = childCpu();
  return () => {
    const d = process.cpuUsage(cpu);
    const c = childCpu();
    const childUser = Math.max(0, c.user - child.user);
    const childSys = Math.max(0, c.sys - child.sys);
    const userS = round3(d.user / 1e6 + childUser);
    const sysS = round3(d.system / 1e6 + childSys);
    const peak = peakRss();
    return {
      cpuS: round3(userS + sysS),
      userS,
      sysS,
      childCpuS: round3(childUser + childSys),
      peakRssBytes: peak,
      peakRssScope: reset || peak > peakBefore ? 'task' : 'process',
    };
  };
}
