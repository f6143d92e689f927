// The store is checked once, before anything runs: a store that is missing (created), not a
// directory, unwritable or on a full disk is the same problem for every task, so it is said
// once, in one line naming the variable and the path, instead of once per task (or never: a
// lock retrying EACCES forever).
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SetupError } from './errors.ts';
import { gcHint, Store, storeFolders } from './store.ts';

export { SetupError } from './errors.ts';

/** Below this much free space a run would only fail task after task. */
const MIN_FREE_BYTES = 1 << 20;

function describe(dir: string, envVar: string, fromEnv: boolean): string {
  return fromEnv ? `store ${envVar}=${dir}` : `store ${dir} (the default; set ${envVar} to use another)`;
}

function reason(e: unknown, command: string): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (EACCES)';
    case 'EROFS':
      return 'read-only file system (EROFS)';
    case 'ENOTDIR':
      return 'a parent of it is a file, not a directory (ENOTDIR)';
    case 'ENOSPC':
    case 'EDQUOT':
      return `the disk is full (ENOSPC): free space, or ${gcHint(command)}`;
    default:
      return err.code ? `${err.code}: ${err.message}` : err.message;
  }
}

const pendingNotes: string[] = [];

/** Notes about the store a command read (a missing store), printed after its answer or its error; clears them. */
export function takeStoreNotes(): string[] {
  return pendingNotes.splice(0);
}

/** The folder openStore opens: `$envVar` when set, else `defaultDir`. */
export function storeDirOf(envVar: string, defaultDir: string): string {
  return path.resolve(process.env[envVar] || defaultDir);
}

/**
 * Opens the store named by `envVar` (or `defaultDir`). `write`: creates it when missing and
 * proves it writable with a small probe write; otherwise (status, show, why) a missing store is
 * simply empty and nothing is created.
 */

export async function openStore(envVar: string, defaultDir: string, mode: 'read' | 'write', command: string): Promise<Store> {
  const fromEnv = !!process.env[envVar];
  const dir = storeDirOf(envVar, defaultDir);
  const fail = (what: string, e?: unknown): never => {
    throw new SetupError(`${describe(dir, envVar, fromEnv)} ${what}${e === undefined ? '' : `: ${reason(e, command)}`}`);
  };
  let st = await fs.stat(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : fail('cannot be opened', e)));
  if (st && !st.isDirectory()) fail('is not a directory');
  if (mode === 'read') {
    // A mistyped path must not read as "nothing built": say which store was looked at, once the
    // command has answered or failed (an up-front error, e.g. a bad backend, stays the only line).
    if (!st) pendingNotes.push(`note: ${describe(dir, envVar, fromEnv)} does not exist: nothing is built there`);
    if (st) {
      for (const p of storeFolders(dir, 'read')) {
        await fs.access(p, constants.R_OK | constants.X_OK).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') fail(`is not readable (${p})`, e);
        });
      }
    }
    return new Store(dir, { readOnly: true, command });
  }
  if (!st) {
    await fs.mkdir(dir, { recursive: true }).catch(async (e: unknown) => fail('is missing and cannot be created', await ancestorProblem(dir, e)));
    st = await fs.stat(dir);
  }
  const store = new Store(dir, { command });
  await store.init().catch((e: unknown) => fail('is not writable', e));
  for (const p of storeFolders(dir, 'write')) {
    await fs.access(p, constants.W_OK | constants.X_OK).catch((e: unknown) => fail(`is not writable (${p})`, e));
  }
  const probe = store.scratchPath('probe');
  try {
    await fs.writeFile(probe, Buffer.alloc(4096));
  } catch (e) {
    await fs.rm(probe, { force: true }).catch(() => {});
    fail('is not writable', e);
  }
  await fs.rm(probe, { force: true });
  const sfs = await fs.statfs(dir).catch(() => undefined);
  if (sfs && sfs.bavail * sfs.bsize < MIN_FREE_BYTES)
    fail(`is on a full disk (${Math.floor((sfs.bavail * sfs.bsize) / 1024)} KiB free): free space, or ${gcHint(command)}`);
  return store;
}

/**
 * Why a folder cannot be created, from its nearest existing ancestor (recursive mkdir reports
 * ENOENT on a read-only file system, which names the wrong cause).
 */
async function ancestorProblem(dir: string, original: unknown): Promise<unknown> {
  for (let p = path.dirname(dir); ; p = path.dirname(p)) {
    const st = await fs.stat(p).catch(() => undefined);
    if (st) {
      if (!st.isDirectory()) return Object.assign(new Error(`${p} is a file`), { code: 'ENOTDIR' });
      const denied = await fs.access(p, constants.W_OK | constants.X_OK).then(() => undefined, (e: unknown) => e);
      return denied ?? original;
    }
    if (p === path.dirname(p)) return original;
  }
}
