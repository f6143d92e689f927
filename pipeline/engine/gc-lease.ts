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
//
// A lease is judged by its holder's progress, never by comparing clocks: the holder rewrites its
// lease with a heartbeat counter (`seq`) every few seconds, and gc notes the counter it saw
// (with its own clock) beside the lease (`<lease>.seen`). Only a counter that this gc host saw
// unchanged for REMOTE_STALE_MS makes another host's lease stale; a lease of this host is live
// while its process is. A holder whose lease was nevertheless removed (it was stopped longer
// than that, SIGSTOP) or replaced notices: the scheduler stops starting tasks, takes a new lease
// under gc's lock, and re-verifies a finished task's outputs on disk before its record counts
// (recomputing the task when gc took them).
//
// Test hooks (fault tests only; nothing sets them in normal use): ENGINE_TEST_HOST stands for
// the host name, ENGINE_TEST_CLOCK_SKEW_MS shifts this process's clock, and
// ENGINE_TEST_LEASE_STALE_MS and ENGINE_TEST_LEASE_HEARTBEAT_MS shorten the two intervals.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { lockPath, type Store } from './store.ts';

const envMs = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
/** Another host's lease counts as live until gc has seen its heartbeat counter stand still this long. */
const REMOTE_STALE_MS = envMs('ENGINE_TEST_LEASE_STALE_MS', 60_000);
const HEARTBEAT_MS = envMs('ENGINE_TEST_LEASE_HEARTBEAT_MS', 5_000);
/** gc's lock is refreshed while held; a gc killed mid-sweep frees it after this long. */
const GC_LOCK_STALE_MS = 10_000;
/** Lease files are rewritten in place, padded to this size, so a reader never sees half of one. */
const LEASE_BYTES = 512;

/** This host's name as leases tell it (ENGINE_TEST_HOST: a test's second host). */
export function leaseHost(): string {
  return process.env.ENGINE_TEST_HOST || os.hostname();
}

/** This process's clock, as leases read it (ENGINE_TEST_CLOCK_SKEW_MS: a test's lagging host). */
function now(): number {
  return Date.now() + (Number(process.env.ENGINE_TEST_CLOCK_SKEW_MS) || 0);
}

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

interface LeaseBody {
  pid: number;
  host: string;
  startedAt: string;
  token: string;
  seq: number;
}

function parseLease(text: string): Partial<LeaseBody> {
  return JSON.parse(text) as Partial<LeaseBody>;
}

/** What gc last saw of another host's lease: its counter, and when (gc's clock) it first saw it. */
interface Seen {
  seq: number;
  token: string;
  at: number;
  by: string;
}

async function readSeen(file: string): Promise<Seen | undefined> {
  try {
    const s = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Seen>;
    return typeof s.seq === 'number' && typeof s.at === 'number' && typeof s.by === 'string' && typeof s.token === 'string' ? (s as Seen) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The leases of live runs. A lease of this host is live while its process is (a suspended run,
 * Ctrl-Z, still counts); another host's until this host's gc saw its heartbeat counter stand
 * still for REMOTE_STALE_MS (a first sight always counts as live). Dead leases (a run that was
 * SIGKILLed) are removed unless `dryRun`, which also records no sighting.
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
  const me = leaseHost();
  const live: LeaseInfo[] = [];
  for (const name of names) {
    // A sighting whose lease is gone is of no use any more.
    if (name.endsWith('.lease.seen') && !names.includes(name.slice(0, -5))) {
      if (!dryRun) await fs.rm(path.join(dir, name), { force: true });
      continue;
    }
    if (!name.endsWith('.lease')) continue;
    const file = path.join(dir, name);
    let body: Partial<LeaseBody>;
    try {
      body = parseLease(readFileSync(file, 'utf8'));
    } catch {
      // Half-written by a run that is registering right now, or gone: a fresh file counts as live.
      const st = await fs.stat(file).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs < REMOTE_STALE_MS) live.push({ file, pid: 0, host: '?', startedAt: '?' });
      continue;
    }
    const info: LeaseInfo = { file, pid: Number(body.pid), host: String(body.host), startedAt: String(body.startedAt) };
    let alive: boolean;
    if (info.host === me) alive = processAlive(info.pid);
    else {
      const seenFile = `${file}.seen`;
      const seen = await readSeen(seenFile);
      // A lease of an older engine has no counter: its heartbeat moves the file's mtime, which
      // then serves as the counter (only whether it changed matters, never its value as a time).
      const seq = typeof body.seq === 'number' ? body.seq : ((await fs.stat(file).catch(() => undefined))?.mtimeMs ?? 0);
      const token = String(body.token ?? '');
      const t = now();
      const same = seen && seen.by === me && seen.seq === seq && seen.token === token;
      alive = !same || t - seen.at < REMOTE_STALE_MS;
      if (!same && !dryRun) await fs.writeFile(seenFile, `${JSON.stringify({ seq, token, at: t, by: me } satisfies Seen)}\n`).catch(() => {});
      if (!alive && !dryRun) await fs.rm(seenFile, { force: true });
    }
    if (alive) live.push(info);
    else if (!dryRun) await fs.rm(file, { force: true });
  }
  return live;
}

/** The lease one run holds on its store from before its first write until it ends. */
export class RunLease {
  private timer: NodeJS.Timeout | undefined;
  private readonly onExit = (): void => rmSync(this.file, { force: true });
  private seq = 0;
  private token = '';
  /** The inode of the lease file `register` wrote. */
  private ino: number | undefined;
  private released = false;
  private retaking: Promise<void> | undefined;
  /** Set when a heartbeat found the lease removed or replaced (gc judged it stale). */
  lost = false;
  /** Counts the leases taken: a task whose epoch changed while it ran must re-verify its outputs. */
  epoch = 0;

  private constructor(
    private readonly store: Store,
    readonly file: string,
  ) {
    process.on('exit', this.onExit);
  }

  static async take(store: Store): Promise<RunLease> {
    const file = path.join(store.area('leases'), `${process.pid}.${randomBytes(4).toString('hex')}.lease`);
    const lease = new RunLease(store, file);
    await lease.register();
    return lease;
  }

  private body(token = this.token, seq = this.seq): string {
    const b: LeaseBody = { pid: process.pid, host: leaseHost(), startedAt: new Date(now()).toISOString(), token, seq };
    return JSON.stringify(b).padEnd(LEASE_BYTES - 1, ' ') + '\n';
  }

  /** Writes a new lease (a new token) under gc's lock, so no sweep is under way meanwhile. */
  private async register(): Promise<void> {
    const token = randomBytes(8).toString('hex');
    await withGcLock(this.store, async () => {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      await fs.writeFile(this.file, this.body(token, 0));
      this.ino = statSync(this.file).ino;
    });
    this.token = token;
    this.seq = 0;
    this.lost = false;
    this.epoch++;
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /**
   * Whether the lease file is still ours: the file this run wrote, by its inode (only `register`
   * makes a lease file, under gc's lock, with a name of its own; gc only removes them, and the
   * heartbeat rewrites it in place). A stat, not a read: a run asks before and after each task.
   */
  async held(): Promise<boolean> {
    const at = performance.now();
    const held = this.ino !== undefined && statSync(this.file, { throwIfNoEntry: false })?.ino === this.ino;
    if (held) this.heldAt = at;
    return held;
  }

  /** When (performance.now(), taken before its stat) the lease was last found held. */
  private heldAt = -Infinity;

  /**
   * Advances the counter in place (never recreating a removed lease: only `register`, under gc's
   * lock, may), or notes that the lease was lost.
   */
  private async beat(): Promise<void> {
    if (this.released || this.lost) return;
    if (!(await this.held())) {
      this.lost = true;
      return;
    }
    this.seq++;
    let fh: fs.FileHandle | undefined;
    try {
      fh = await fs.open(this.file, 'r+');
      await fh.write(this.body(), 0, 'utf8');
    } catch {
      this.lost = true;
    } finally {
      await fh?.close().catch(() => {});
    }
  }

  /**
   * Makes sure the lease is held now, taking a new one when it was lost (the epoch then changes).
   * Returns the epoch. `since` (performance.now()): a check begun at or after it will do (the
   * tasks a worker answered in one message, each checked after its record was written, share one
   * stat: nothing but `register` makes a lease file, so one found held was held all along since
   * its epoch began).
   */
  async ensure(since?: number): Promise<number> {
    if (this.released) return this.epoch;
    if (!this.lost && since !== undefined && this.heldAt >= since) return this.epoch;
    if (!this.lost && (await this.held())) return this.epoch;
    this.retaking ??= this.register().finally(() => (this.retaking = undefined));
    await this.retaking;
    return this.epoch;
  }

  async release(): Promise<void> {
    this.released = true;
    clearInterval(this.timer);
    process.off('exit', this.onExit);
    await fs.rm(this.file, { force: true });
    await fs.rm(`${this.file}.seen`, { force: true });
  }
}
