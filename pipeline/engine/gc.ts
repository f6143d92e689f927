// `gc`: which records to keep, which blobs they reference, and removal of everything else in
// objects/ and tmp/. Selection (`keep`) is separate from sweeping so a caller can narrow
// what is kept (e.g. only some experiments' records); `dryRun` reports and changes nothing.
import fs from 'node:fs/promises';
import path from 'node:path';
import { liveLeases, processAlive, withGcLock, type LeaseInfo } from './gc-lease.ts';
import { sweepSlurm } from './gc-slurm.ts';
import { queuedJobIds } from './slurm.ts';
import type { Store, TaskRecord } from './store.ts';

export interface GcOptions {
  dryRun?: boolean;
  /**
   * Which records to keep (the rest are removed, and their blobs with them; default: keep all).
   * Called inside the sweep, under gc's lock and after the leases were found, so no run can
   * finish a record between the choice and the removal.
   */
  keep?: () => Promise<(record: TaskRecord) => boolean>;
  /** Logs of finished SLURM jobs older than this many days are removed (default 14). */
  slurmLogDays?: number;
  /** The SLURM jobs still queued or running (default: ask squeue; undefined: none answers). */
  queuedJobs?: () => Promise<Set<string> | undefined>;
}

export interface GcReport {
  dryRun: boolean;
  /** Set when live runs hold leases: nothing was (or would be) removed. */
  blockedBy: LeaseInfo[];
  removedBlobs: number;
  removedBytes: number;
  keptBlobs: number;
  removedTmp: number;
  removedRecords: number;
  /** Files and folders of `slurm/` removed (manifests, progress, batches, logs of jobs that are over). */
  removedSlurm: number;
  /** Why `slurm/` was left alone, when it was. */
  slurmSkipped?: string;
  /** Records that failed validation (set aside in quarantine/ unless dryRun). */
  badRecords: string[];
  /** Paths removed (or, with dryRun, that would be). */
  removed: string[];
}

export async function collectGarbage(store: Store, opts: GcOptions = {}): Promise<GcReport> {
  const dryRun = opts.dryRun ?? false;
  // A dry run changes nothing, so it needs no lock: it is a preview of what gc would do now.
  const sweep = async (): Promise<GcReport> => {
    const blockedBy = await liveLeases(store, dryRun);
    const report: GcReport = { dryRun, blockedBy, removedBlobs: 0, removedBytes: 0, keptBlobs: 0, removedTmp: 0, removedRecords: 0, removedSlurm: 0, badRecords: [], removed: [] };
    const act = !dryRun && blockedBy.length === 0;
    const keepRecord = opts.keep ? await opts.keep() : undefined;

    const referenced = new Set<string>();
    const droppedLogs = new Set<string>();
    for (const key of await store.records.list()) {
      const r = store.records.load(key);
      if (r.state === 'bad') {
        report.badRecords.push(r.path);
        if (act) await store.records.quarantine(key);
        continue;
      }
      if (r.state !== 'ok') continue;
      if (keepRecord && !keepRecord(r.record)) {
        report.removedRecords++;
        report.removed.push(store.records.where(key));
        if (r.record.executor?.log) droppedLogs.add(r.record.executor.log);
        if (act) await store.records.delete(key);
        continue;
      }
      for (const o of Object.values(r.record.outputs)) referenced.add(o.hash);
    }

    for (const hash of await store.blobs.list()) {
      if (referenced.has(hash)) {
        report.keptBlobs++;
        continue;
      }
      const size = await store.blobs.remove(hash, !act);
      if (size === undefined) continue;
      report.removedBlobs++;
      report.removedBytes += size;
      report.removed.push(store.blobs.path(hash));
    }

    // After the leases: a live run's jobs are in the queue or hold a lease of their own.
    const slurm = await sweepSlurm(store, opts.queuedJobs ?? queuedJobIds, droppedLogs, opts.slurmLogDays ?? 14, act);
    report.removedSlurm = slurm.removed.length;
    report.removed.push(...slurm.removed);
    if (slurm.skipped) report.slurmSkipped = slurm.skipped;

    for (const p of await store.scratchEntries()) {
      // A temp file of a live process on this host (one without a lease, say) is left alone.
      const pid = Number(path.basename(p).split('.').at(-2));
      if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) continue;
      report.removedTmp++;
      report.removed.push(p);
      if (act) await fs.rm(p, { recursive: true, force: true });
    }
    return report;
  };
  return dryRun ? sweep() : withGcLock(store, sweep);
}
