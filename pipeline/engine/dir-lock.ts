// Locks between processes, on proper-lockfile's protocol so that engines using that package (an
// older run, a batch job of one) and this one exclude each other: the lock of `file` is the
// folder `<file>.lock`, made with mkdir (atomic); its holder keeps the folder's mtime fresh, and
// one not refreshed for `staleMs` (its holder was SIGKILLed) is taken over.
// Synchronous, with one refresh timer for every lock this process holds: a run takes and frees
// one lock per task, and the package's promise and retry machinery, its path resolution and a
// timer per lock cost the scheduler ~0.5 ms of CPU a task, a tenth of that here.
import { mkdirSync, rmdirSync, statSync, utimesSync } from 'node:fs';

interface Held {
  refreshMs: number;
  refreshed: number;
  /** The folder's inode: another one at the path is a holder that took the lock over. */
  ino: number;
}

const held = new Map<string, Held>();
let timer: NodeJS.Timeout | undefined;
let tickMs = 0;

function refresh(): void {
  const now = Date.now();
  for (const [dir, h] of held) {
    if (now - h.refreshed < h.refreshMs) continue;
    try {
      if (statSync(dir).ino !== h.ino) throw new Error('taken over');
      const t = new Date(now);
      utimesSync(dir, t, t);
      h.refreshed = now;
    } catch {
      // Removed or taken over by a process that judged it stale (this one was stopped,
      // SIGSTOP): what it guards is written atomically either way, so go on, as proper-lockfile's
      // onCompromised did in this engine. Never ours to refresh or remove again.
      held.delete(dir);
    }
  }
  if (!held.size) stop();
}

function stop(): void {
  clearInterval(timer);
  timer = undefined;
  tickMs = 0;
}

function schedule(refreshMs: number): void {
  if (timer && tickMs <= refreshMs) return;
  clearInterval(timer);
  tickMs = refreshMs;
  timer = setInterval(refresh, refreshMs);
  // Never keeps the process alive: its locks are removed at exit.
  timer.unref();
}

let exitHook = false;

/**
 * Takes the lock of `file` when it is free or stale; false while another holder keeps it
 * fresh. Any other error (ENOTDIR, EACCES, ENOSPC) is thrown: waiting would never end.
 */
export function tryLock(file: string, staleMs: number): boolean {
  // proper-lockfile's bounds: stale at least 2 s, refreshed every stale/2 at most and 1 s at least.
  const stale = Math.max(staleMs, 2000);
  const refreshMs = Math.max(Math.min(stale / 5, stale / 2), 1000);
  const dir = `${file}.lock`;
  if (held.has(dir)) return false;
  if (!made(dir)) {
    const st = statSync(dir, { throwIfNoEntry: false });
    // Gone meanwhile: one more try, without the stale check (as proper-lockfile).
    if (st && Math.floor(st.mtimeMs) >= Date.now() - stale) return false;
    if (st) {
      try {
        rmdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    if (!made(dir)) return false;
  }
  held.set(dir, { refreshMs, refreshed: Date.now(), ino: statSync(dir).ino });
  schedule(refreshMs);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const d of held.keys())
        try {
          rmdirSync(d);
        } catch {
          // gone already
        }
    });
  }
  return true;
}

function made(dir: string): boolean {
  try {
    mkdirSync(dir);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Frees a lock this process holds (a lock taken over by another process is left to it).
 * Synchronous, like taking it: removing the folder may wait a moment on the file system's
 * journal, but through the thread pool it costs more CPU than it saves in wall time.
 */
export function unlock(file: string): void {
  const dir = `${file}.lock`;
  if (!held.delete(dir)) return;
  if (!held.size) stop();
  try {
    rmdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
