// Keeps `gc` from collecting what a live run is about to reference.
//
// Why a lease and not a grace period on recent blobs: a worker's output is an unreferenced blob
// until the parent writes the task's record, and putBytes dedupes against a blob that already
// exists, so a run can adopt an *old* unreferenced blob at any moment. No age cutoff protects
// that, and any check-then-delete by gc races with it unless the two exclude each other. A run
// must never lose work, while gc can always wait: so every run holds a lease file in leases/ for
// its whole life, gc sweeps nothing while a live lease exists (it says which run blocks it), and
// gc holds the store's gc lock while it looks and sweeps, which a run takes briefly to register
// its lease, so no run can start in the middle of a sweep.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { lockPath, type Store } from './store.ts';

/** A lease of another host counts as live while its heartbeat is this recent. */
const REMOTE_STALE_MS = 60_000;
const HEARTBEAT_MS = 5_000;
/** gc's lock is refreshed while held; a gc killed mid-sweep frees it after this long. */
const GC_LOCK_STALE_MS = 10_000;

export interface LeaseInfo {
  file: string;
  pid: number;
  host: string;
  startedAt: string;
}

/** Runs `fn` holding the store-wide gc lock (locks/gc.lock). */
export async function withGcLock<T>(store: Store, fn: () => Promise<T>): Promise<T> {
  const release = await lockPath(path.join(store.area('locks'), 'gc'), GC_LOCK_STALE_MS);
  try {
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}

/** Whether a process of this host still runs (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The leases of live runs. A lease of this host is live while its process is (a suspended run,
 * Ctrl-Z, still counts); another host's while its heartbeat is recent. Dead leases (a run that
 * was SIGKILLed) are removed unless `dryRun`.
 */
export async function liveLeases(store: Store, dryRun = false): Promise<LeaseInfo[]> {
  const dir = store.area('leases');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const live: LeaseInfo[] = [];
  for (const name of names) {
    if (!name.endsWith('.lease')) continue;
    const file = path.join(dir, name);
    let info: LeaseInfo;
    let mtimeMs: number;
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LeaseInfo>;
      mtimeMs = (await fs.stat(file)).mtimeMs;
      info = { file, pid: Number(parsed.pid), host: String(parsed.host), startedAt: String(parsed.startedAt) };
    } catch {
      // Half-written by a run that is registering right now, or gone: a fresh file counts as live.
      const st = await fs.stat(file).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs < REMOTE_STALE_MS) live.push({ file, pid: 0, host: '?', startedAt: '?' });
      continue;
    }
    const alive = info.host === os.hostname() ? processAlive(info.pid) : Date.now() - mtimeMs < REMOTE_STALE_MS;
    if (alive) live.push(info);
    else if (!dryRun) await fs.rm(file, { force: true });
  }
  return live;
}

/** The lease one run holds on its store from before its first write until it ends. */
export class RunLease {
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = (): void => rmSync(this.file, { force: true });

  private constructor(readonly file: string) {
    this.timer = setInterval(() => {
      const now = new Date();
      fs.utimes(this.file, now, now).catch(() => {});
    }, HEARTBEAT_MS);
    this.timer.unref();
    process.on('exit', this.onExit);
  }

  static async take(store: Store): Promise<RunLease> {
    const file = path.join(store.area('leases'), `${process.pid}.${randomBytes(4).toString('hex')}.lease`);
    const body = `${JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() })}\n`;
    await withGcLock(store, async () => {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, body);
    });
    return new RunLease(file);
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    process.off('exit', this.onExit);
    await fs.rm(this.file, { force: true });
  }
}
