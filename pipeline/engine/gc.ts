// `gc`: which records to keep, which blobs they reference, and removal of everything else in
// objects/ and tmp/. Selection (`keep`) is separate from sweeping so a caller can narrow
// what is kept (e.g. only some experiments' records); `dryRun` reports and changes nothing.
import fs from 'node:fs/promises';
import path from 'node:path';
import { liveLeases, processAlive, withGcLock, type LeaseInfo } from './gc-lease.ts';
import { HASH_RE } from './record-schema.ts';
import type { Store, TaskRecord } from './store.ts';

export interface GcOptions {
  dryRun?: boolean;
  /**
   * Which records to keep (the rest are removed, and their blobs with them; default: keep all).
   * Called inside the sweep, under gc's lock and after the leases were found, so no run can
   * finish a record between the choice and the removal.
   */
  keep?: () => Promise<(record: TaskRecord) => boolean>;
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
  /** Records that failed validation (set aside in quarantine/ unless dryRun). */
  badRecords: string[];
  /** Paths removed (or, with dryRun, that would be). */
  removed: string[];
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export async function collectGarbage(store: Store, opts: GcOptions = {}): Promise<GcReport> {
  const dryRun = opts.dryRun ?? false;
  // A dry run changes nothing, so it needs no lock: it is a preview of what gc would do now.
  const sweep = async (): Promise<GcReport> => {
    const blockedBy = await liveLeases(store, dryRun);
    const report: GcReport = { dryRun, blockedBy, removedBlobs: 0, removedBytes: 0, keptBlobs: 0, removedTmp: 0, removedRecords: 0, badRecords: [], removed: [] };
    const act = !dryRun && blockedBy.length === 0;
    const keepRecord = opts.keep ? await opts.keep() : undefined;

    const referenced = new Set<string>();
    for (const name of await listDir(path.join(store.dir, 'tasks'))) {
      const key = name.slice(0, -5);
      if (!name.endsWith('.json') || !HASH_RE.test(key)) continue; // not a record (e.g. a write's temp file)
      const r = store.loadRecord(key);
      if (r.state === 'bad') {
        report.badRecords.push(r.path);
        if (act) await store.quarantineRecord(key);
        continue;
      }
      if (r.state !== 'ok') continue;
      if (keepRecord && !keepRecord(r.record)) {
        report.removedRecords++;
        report.removed.push(store.recordPath(key));
        if (act) await store.deleteRecord(key);
        continue;
      }
      for (const o of Object.values(r.record.outputs)) referenced.add(o.hash);
    }

    for (const name of await listDir(path.join(store.dir, 'objects'))) {
      if (!HASH_RE.test(name)) continue; // only objects/<sha256> is ours to remove
      if (referenced.has(name)) {
        report.keptBlobs++;
        continue;
      }
      const p = store.objectPath(name);
      const st = await fs.lstat(p).catch(() => undefined);
      if (!st) continue;
      report.removedBlobs++;
      report.removedBytes += st.size;
      report.removed.push(p);
      if (act) await fs.rm(p, { force: true });
    }

    for (const name of await listDir(path.join(store.dir, 'tmp'))) {
      // A temp file of a live process on this host (one without a lease, say) is left alone.
      const pid = Number(name.split('.').at(-2));
      if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) continue;
      const p = path.join(store.dir, 'tmp', name);
      report.removedTmp++;
      report.removed.push(p);
      if (act) await fs.rm(p, { recursive: true, force: true });
    }
    return report;
  };
  return dryRun ? sweep() : withGcLock(store, sweep);
}
