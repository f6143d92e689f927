// Locks between processes. The lock of `file` is whatever lies at `<file>.lock`: made atomically
// when free, failing with EEXIST when held, so that engines of every version exclude each other.
// Its holder keeps its mtime fresh, and one not refreshed for `staleMs` (its holder was SIGKILLed)
// is taken over.
// This engine makes it as a hard link to a token file of its own (`linkSync`, one token per
// process and folder, kept in `tokenDir`): a run takes and frees one lock per task, and making
// and removing a folder each time (the protocol of proper-lockfile, which older engines used and
// which is still the fallback where links cannot be made) allocates and frees an inode per task,
// which costs the file system ten times the CPU of a link once many inodes were freed lately
// (ext4 steps over each recently freed one). A stale lock of either kind is taken over.
// Synchronous, with one refresh timer for every lock this process holds: the package's promise
// and retry machinery, its path resolution and a timer per lock cost the scheduler ~0.5 ms of CPU
// a task, a tenth of that here.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, rmdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface Held {
  refreshMs: number;
  refreshed: number;
  /** The lock's inode: another one at the path is a holder that took the lock over. */
  ino: number;
  /** A link to this process's token (else a folder). */
  link: boolean;
}

const held = new Map<string, Held>();
let timer: NodeJS.Timeout | undefined;
let tickMs = 0;

/** Per token folder: this process's token (its inode is every link lock it holds there), or null where links cannot be made. */
const tokens = new Map<string, { file: string; ino: number } | null>();
/** When this process last set a token's mtime (by its inode: refreshing any lock linked to it does too). */
const touched = new Map<number, number>();
/**
 * A token touched this recently is fresh enough for a new lock to link to: a lock is stale only
 * after `staleMs`, at least 2 s. A run takes a lock per task; touching the token for each one cost
 * a syscall each.
 */
const TOUCHED_FRESH_MS = 250;

function refresh(): void {
  const now = Date.now();
  for (const [lock, h] of held) {
    if (now - h.refreshed < h.refreshMs) continue;
    try {
      if (statSync(lock).ino !== h.ino) throw new Error('taken over');
      const t = new Date(now);
      utimesSync(lock, t, t);
      h.refreshed = now;
      if (h.link) touched.set(h.ino, now);
    } catch {
      // Removed or taken over by a process that judged it stale (this one was stopped,
      // SIGSTOP): what it guards is written atomically either way, so go on, as proper-lockfile's
      // onCompromised did in this engine. Never ours to refresh or remove again.
      held.delete(lock);
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

function hookExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const [lock, h] of held) removeQuietly(lock, h.link);
    for (const t of tokens.values()) if (t) removeQuietly(t.file, true);
  });
}

function removeQuietly(p: string, file: boolean): void {
  try {
    if (file) unlinkSync(p);
    else rmdirSync(p);
  } catch {
    // gone already
  }
}

/** Errors that say this file system (or folder pair) makes no hard links. */
const NO_LINKS = new Set(['EPERM', 'EXDEV', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/**
 * This process's token in `dir`, made on first use; undefined where none can be made (a
 * read-only store, say: the folder lock then fails with the error a person should see).
 */
function token(dir: string): { file: string; ino: number } | undefined {
  const known = tokens.get(dir);
  if (known !== undefined) return known ?? undefined;
  // `<hint>.<pid>.<random>`, like the store's temp files: gc removes one its process left.
  const file = path.join(dir, `lock-token.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    writeFileSync(file, '', { flag: 'wx' });
    const t = { file, ino: statSync(file).ino };
    tokens.set(dir, t);
    hookExit();
    return t;
  } catch {
    return undefined;
  }
}

/** Makes the lock: true when made, false when something lies there already. */
function make(lock: string, tokenDir: string | undefined): { ino: number; link: boolean } | undefined {
  const t = tokenDir === undefined ? undefined : token(tokenDir);
  if (t) {
    // Fresh before it appears at the lock's path, so no one judges the new lock stale.
    try {
      const now = Date.now();
      if (now - (touched.get(t.ino) ?? 0) > TOUCHED_FRESH_MS) {
        const d = new Date(now);
        utimesSync(t.file, d, d);
        touched.set(t.ino, now);
      }
      linkSync(t.file, lock);
      return { ino: t.ino, link: true };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return undefined;
      if (code === 'ENOENT' && statSync(t.file, { throwIfNoEntry: false }) === undefined) {
        // Our token was removed (gc sweeping an idle process's files): a new one next time.
        tokens.delete(tokenDir!);
        return make(lock, tokenDir);
      }
      if (!code || !NO_LINKS.has(code)) throw e;
      tokens.set(tokenDir!, null);
    }
  }
  try {
    mkdirSync(lock);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  }
  return { ino: statSync(lock).ino, link: false };
}

/** Removes a stale lock of either kind (another process may have removed it meanwhile). */
function removeStale(lock: string): void {
  try {
    unlinkSync(lock);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'EISDIR' && code !== 'EPERM') throw e;
    try {
      rmdirSync(lock);
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code !== 'ENOENT') throw e2;
    }
  }
}

/**
 * Takes the lock of `file` when it is free or stale; false while another holder keeps it
 * fresh. Any other error (ENOTDIR, EACCES, ENOSPC) is thrown: waiting would never end.
 * `tokenDir`: a folder of the same file system, where this process keeps the token its locks
 * link to (without it, the lock is a folder).
 */
export function tryLock(file: string, staleMs: number, tokenDir?: string): boolean {
  // proper-lockfile's bounds: stale at least 2 s, refreshed every stale/2 at most and 1 s at least.
  const stale = Math.max(staleMs, 2000);
  const refreshMs = Math.max(Math.min(stale / 5, stale / 2), 1000);
  const lock = `${file}.lock`;
  if (held.has(lock)) return false;
  let made = make(lock, tokenDir);
  if (!made) {
    const st = statSync(lock, { throwIfNoEntry: false });
    // Gone meanwhile: one more try, without the stale check (as proper-lockfile).
    if (st && Math.floor(st.mtimeMs) >= Date.now() - stale) return false;
    if (st) removeStale(lock);
    made = make(lock, tokenDir);
    if (!made) return false;
  }
  held.set(lock, { refreshMs, refreshed: Date.now(), ...made });
  schedule(refreshMs);
  hookExit();
  return true;
}

/**
 * Frees a lock this process holds (a lock taken over by another process is left to it).
 * Synchronous, like taking it: through the thread pool it costs more CPU than it saves in wall
 * time.
 */
export function unlock(file: string): void {
  const lock = `${file}.lock`;
  const h = held.get(lock);
  if (!h) return;
  held.delete(lock);
  if (!held.size) stop();
  try {
    if (h.link) unlinkSync(lock);
    else rmdirSync(lock);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
