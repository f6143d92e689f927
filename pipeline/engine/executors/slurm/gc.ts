// `gc` of `<store>/slurm/`: what the SLURM executor leaves for jobs that are over. A job still
// queued or running needs its batch folder (its script and element files), its manifest (a rerun
// adopts it through that) and its progress file; those are kept whatever their age. Of jobs that
// are over: manifests, progress files and batch folders go (a task's record names its job and
// log itself); logs go after `logDays` days, or at once when gc removes the record naming them.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { GcHook } from '../../gc.ts';
import type { Store } from '../../store.ts';
import { queuedJobIds } from './slurm.ts';

export interface SlurmSweep {
  removed: string[];
  /** Why slurm/ was left as it is (no controller to tell queued jobs from finished ones). */
  skipped?: string;
}

async function entries(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
}

/**
 * `queuedJobs`: ids of this user's queued or running jobs, array elements (`12_3`) and arrays
 * (`12`) alike, or undefined when no controller answers. `droppedLogs`: logs named by records this gc
 * removes. Removes only when `act`.
 */
export async function sweepSlurm(store: Store, queuedJobs: () => Promise<Set<string> | undefined>, droppedLogs: Set<string>, logDays: number, act: boolean): Promise<SlurmSweep> {
  const dir = store.area('slurm');
  const removed: string[] = [];
  if (!(await entries(dir)).length) return { removed }; // never ran SLURM jobs: no need to ask squeue
  const queued = await queuedJobs();
  if (!queued) return { removed, skipped: `${dir} left as it is: no SLURM controller answers here, so jobs still queued cannot be told from finished ones` };
  const isQueued = (jobId: string): boolean => queued.has(jobId) || queued.has(jobId.split('_')[0]!);
  const drop = async (p: string): Promise<void> => {
    removed.push(p);
    if (act) await fs.rm(p, { recursive: true, force: true });
  };

  // Manifests and progress files, per task key: kept while the key's job is queued.
  const busyKeys = new Set<string>();
  for (const name of await entries(path.join(dir, 'tasks'))) {
    const p = path.join(dir, 'tasks', name);
    let jobId: string | undefined;
    try {
      jobId = (JSON.parse(await fs.readFile(p, 'utf8')) as { jobId?: string }).jobId;
    } catch {
      jobId = undefined; // half-written or foreign: unreadable manifests adopt nothing
    }
    if (jobId && isQueued(jobId)) busyKeys.add(name.replace(/\.json$/, ''));
    else await drop(p);
  }
  for (const name of await entries(path.join(dir, 'progress'))) {
    // `<key>.json` or a temp file of it (`<key>.json.<pid>.tmp`): the key is the name's first 64 hex.
    const key = /^[0-9a-f]{64}/.exec(name)?.[0];
    if (!key || !busyKeys.has(key)) await drop(path.join(dir, 'progress', name));
  }
  // Batch folders: `array` names the array once sbatch answered; one without it (sbatch failed,
  // or its submitter died right then) goes once it is a day old.
  for (const name of await entries(path.join(dir, 'batches'))) {
    const p = path.join(dir, 'batches', name);
    const array = (await fs.readFile(path.join(p, 'array'), 'utf8').catch(() => '')).trim();
    if (array ? !isQueued(array) : await olderThan(p, 1)) await drop(p);
  }
  for (const name of await entries(path.join(dir, 'logs'))) {
    const p = path.join(dir, 'logs', name);
    const jobId = name.replace(/\.log$/, '');
    if (isQueued(jobId)) continue;
    if (droppedLogs.has(p) || (await olderThan(p, logDays))) await drop(p);
  }
  return { removed };
}

async function olderThan(p: string, days: number): Promise<boolean> {
  const st = await fs.stat(p).catch(() => undefined);
  return st !== undefined && Date.now() - st.mtimeMs > days * 86_400_000;
}

/** gc's hook for `slurm/`: logs of jobs that are over go after `logDays` days. */
export function slurmGcHook(logDays: number, queuedJobs: () => Promise<Set<string> | undefined> = queuedJobIds): GcHook {
  return {
    async sweep({ store, dropped, act }) {
      const droppedLogs = new Set(dropped.flatMap((r) => (r.executor?.log ? [r.executor.log] : [])));
      const r = await sweepSlurm(store, queuedJobs, droppedLogs, logDays, act);
      return {
        removed: r.removed,
        // Files and folders of `slurm/` removed; why `slurm/` was left alone, when it was.
        fields: { removedSlurm: r.removed.length, ...(r.skipped ? { slurmSkipped: r.skipped } : {}) },
        ...(r.removed.length ? { summary: `, ${r.removed.length} SLURM job file(s)` } : {}),
        notes: r.skipped ? [r.skipped] : [],
      };
    },
  };
}
