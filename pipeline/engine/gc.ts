// `gc`: which records to keep, which blobs they reference, and removal of everything else in
// objects/ and tmp/. Selection (`keep`) is separate from sweeping so a caller can narrow
// what is kept (e.g. only some experiments' records); `dryRun` reports and changes nothing.
import fs from 'node:fs/promises';
import path from 'node:path';
import { sweepProbes } from './probe-memo.ts';
import { liveLeases, processAlive, withGcLock, type LeaseInfo } from './gc-lease.ts';
import type { Store, TaskRecord } from './store.ts';

/**
 * An executor's part of gc: its own files in the store (e.g. batch jobs' manifests and logs),
 * swept after the leases were found, under gc's lock. It adds its counts to the report.
 */
export interface GcHook {
  sweep(ctx: {
    store: Store;
    /** Records this gc removes (their jobs' logs can go with them). */
    dropped: readonly TaskRecord[];
    /** false: report only (a dry run, or live runs hold leases). */
    act: boolean;
  }): Promise<GcContribution>;
}

export interface GcContribution {
  /** Paths removed (or that would be). */
  removed: string[];
  /** Fields of the report (JSON), e.g. a count of the executor's files removed. */
  fields: Record<string, number | string>;
  /** After the blob counts on the summary line, e.g. ', 3 job file(s)'. */
  summary?: string;
  /** Lines of their own after the summary (why nothing of the executor's was touched). */
  notes?: string[];
}

export interface GcOptions {
  dryRun?: boolean;
  /**
   * Which records to keep (the rest are removed, and their blobs with them; default: keep all).
   * Called inside the sweep, under gc's lock and after the leases were found, so no run can
   * finish a record between the choice and the removal.
   */
  keep?: () => Promise<(record: TaskRecord) => boolean>;
  /** The executors' sweeps of their own files. */
  hooks?: readonly GcHook[];
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
  /** Task logs removed: those of records removed, and of tasks that failed (no record names them). */
  removedLogs: number;
  /** Outdated answers of the store's probe memo (probe-memo.ts: sweepProbes). */
  removedProbes: number;
  /** Records that failed validation (set aside in quarantine/ unless dryRun). */
  badRecords: string[];
  /** Paths removed (or, with dryRun, that would be). */
  removed: string[];
  /** Removed path -> what it was ('record of <task id> (<experiment>)', '<task id> output <name>'). */
  what: Record<string, string>;
  /** The executors' summaries and notes (text output only). */
  extra: { summary: string[]; notes: string[] };
  /** The executors' own fields (e.g. how many of their files were removed). */
  [field: string]: unknown;
}

export async function collectGarbage(store: Store, opts: GcOptions = {}): Promise<GcReport> {
  const dryRun = opts.dryRun ?? false;
  // A dry run changes nothing, so it needs no lock: it is a preview of what gc would do now.
  const sweep = async (): Promise<GcReport> => {
    const blockedBy = await liveLeases(store, dryRun);
    const report: GcReport = { dryRun, blockedBy, removedBlobs: 0, removedBytes: 0, keptBlobs: 0, removedTmp: 0, removedRecords: 0, removedLogs: 0, removedProbes: 0, badRecords: [], removed: [], what: {}, extra: { summary: [], notes: [] } };
    const act = !dryRun && blockedBy.length === 0;
    const keepRecord = opts.keep ? await opts.keep() : undefined;

    const referenced = new Set<string>();
    /** Keys of the records kept: their logs stay. */
    const keptKeys = new Set<string>();
    const dropped: TaskRecord[] = [];
    const outputOf = new Map<string, string>();
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
        report.what[store.records.where(key)] = `record of ${r.record.id} (${r.record.experiment})`;
        for (const [name, o] of Object.entries(r.record.outputs)) outputOf.set(o.hash, `${r.record.id} output ${name}`);
        dropped.push(r.record);
        if (act) await store.records.delete(key);
        continue;
      }
      keptKeys.add(key);
      for (const o of Object.values(r.record.outputs)) referenced.add(o.hash);
    }

    // A log goes with its record; one no record names is a failed task's (no run is live here
    // when gc acts, so none is being written).
    const droppedByKey = new Map(dropped.map((r) => [r.key, r]));
    for (const key of await store.logs.list()) {
      if (keptKeys.has(key) || !(await store.logs.remove(key, !act))) continue;
      report.removedLogs++;
      report.removed.push(store.logs.path(key));
      const record = droppedByKey.get(key);
      report.what[store.logs.path(key)] = record ? `log of ${record.id} (${record.experiment})` : 'log of a task without a record (it failed)';
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
      const owner = outputOf.get(hash);
      if (owner) report.what[store.blobs.path(hash)] = owner;
    }

    // After the leases: a live run's jobs are in the queue or hold a lease of their own.
    for (const hook of opts.hooks ?? []) {
      const c = await hook.sweep({ store, dropped, act });
      Object.assign(report, c.fields);
      report.removed.push(...c.removed);
      if (c.summary) report.extra.summary.push(c.summary);
      report.extra.notes.push(...(c.notes ?? []));
    }

    for (const p of sweepProbes(store, act)) {
      report.removedProbes++;
      report.removed.push(p);
      report.what[p] = 'an outdated probe answer';
    }

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
