// Content-addressed artifact store and action cache.
//   objects/<sha256>      immutable blobs
//   tasks/<key>.json      one record per task key (written last, atomically: a record means complete)
//   index/<exp>/<id>.json the key a task id last had in an experiment (for `status` reasons)
//   locks/<key>.lock      per-key locks between concurrent runs; locks/gc.lock while gc sweeps
//   leases/               one file per live run (gc-lease.ts)
//   quarantine/           bad records and corrupt blobs, set aside for a person to look at
//   tmp/                  partial writes; renamed into place only when complete
// Only `objects/<64 hex>` and `tasks/<64 hex>.json` are ever addressed by a hash: a hash read
// from disk is checked (record-schema.ts) before it becomes a path, and the path helpers refuse
// anything else, so a hostile record can never name a file outside the store.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { canonicalJson, hashBytes } from './fingerprint.ts';
import { HASH_RE, isHash, parseRecord } from './record-schema.ts';
import type { ContentHash, Json, JsonObject, TaskKey } from './types.ts';

export interface OutputEntry {
  hash: ContentHash;
  size: number;
}

export interface TaskRecord {
  key: TaskKey;
  id: string;
  stage: string;
  experiment: string;
  axes: JsonObject;
  params: JsonObject;
  inputs: Record<string, Record<string, string>>;
  code: string;
  /** data files the stage's code read (relative path -> content hash); absent in records before key v2 */
  files?: Record<string, string>;
  runtime: JsonObject;
  outputs: Record<string, OutputEntry>;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  host: string;
  versions: Record<string, string>;
  logs: string[];
  status: 'ok';
  /** Where a batch executor ran the task (absent for local workers). */
  executor?: { kind: string; jobId: string; log: string; node?: string };
}

export class CorruptBlobError extends Error {
  override name = 'CorruptBlobError';
  constructor(
    readonly blobPath: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`blob ${blobPath} is corrupt: expected sha256 ${expected}, found ${actual}`);
  }
}

const SMALL_BLOB = 1 << 20;
const DIRS = ['objects', 'tasks', 'index', 'locks', 'leases', 'quarantine', 'tmp'];

/** A problem with the store itself (full disk, unwritable): the same for every task, so said once. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/** What reading one task record found. */
export type RecordRead =
  | { state: 'absent' }
  | { state: 'ok'; record: TaskRecord }
  | { state: 'bad'; path: string; problem: string };

export interface StoreOptions {
  /** A read-only store (status, show, why, dag): every method that would change a file throws. */
  readOnly?: boolean;
  /** The command that owns the store, named in messages (`<command> gc`). */
  command?: string;
}

/** The cure for a full disk besides freeing space, naming the project's gc command. */
export function gcHint(command = '<command>'): string {
  return `run \`${command} gc\` to delete blobs no record references`;
}

export class Store {
  readonly dir: string;
  readonly readOnly: boolean;
  private readonly command: string | undefined;
  /** Problems found while reading (bad records, corrupt blobs), each reported once by path. */
  readonly warnings: string[] = [];
  private readonly warned = new Set<string>();
  private readonly verified = new Set<string>();

  constructor(dir: string, opts: StoreOptions = {}) {
    this.dir = path.resolve(dir);
    this.readOnly = opts.readOnly ?? false;
    this.command = opts.command;
  }

  /** Records a warning about `subject` (a path) unless one was already recorded for it. */
  warnOnce(subject: string, message: string): void {
    if (this.warned.has(subject)) return;
    this.warned.add(subject);
    this.warnings.push(message);
  }

  private writable(what: string): void {
    if (this.readOnly) throw new Error(`internal: ${what} on a read-only store (${this.dir})`);
  }

  async init(): Promise<void> {
    this.writable('init');
    await Promise.all(DIRS.map((d) => fs.mkdir(path.join(this.dir, d), { recursive: true })));
  }

  objectPath(hash: string): string {
    if (!isHash(hash)) throw new Error(`internal: refusing blob path for '${hash}' (not a sha256 hex digest)`);
    return path.join(this.dir, 'objects', hash);
  }

  recordPath(key: string): string {
    if (!isHash(key)) throw new Error(`internal: refusing record path for '${key}' (not a sha256 hex digest)`);
    return path.join(this.dir, 'tasks', `${key}.json`);
  }

  tmpPath(hint: string): string {
    return path.join(this.dir, 'tmp', `${hint}.${process.pid}.${randomBytes(6).toString('hex')}`);
  }

  /** A write failed: a full disk is named with the store and the cure; anything else passes through. */
  private writeError(e: unknown, what: string): Error {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT')
      return new StoreError(`no space left for the store ${this.dir} while writing ${what}: free disk space, or ${gcHint(this.command)}`);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      return new StoreError(`cannot write ${what} into the store ${this.dir} (${code}): the store is not writable`);
    return e as Error;
  }

  /** Stores bytes under their hash: temp file, fsync, rename. Identical content is stored once. */
  async putBytes(bytes: Uint8Array): Promise<OutputEntry> {
    this.writable('putBytes');
    const hash = hashBytes(bytes);
    const dest = this.objectPath(hash);
    if (!(await exists(dest))) {
      const tmp = this.tmpPath(hash.slice(0, 12));
      try {
        const fh = await fs.open(tmp, 'w');
        try {
          await fh.writeFile(bytes);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fs.rename(tmp, dest);
      } catch (e) {
        // A half-written temp file of a full disk would keep it full: remove it now, not at gc.
        await fs.rm(tmp, { force: true }).catch(() => {});
        throw this.writeError(e, `blob ${hash}`);
      }
    }
    this.verified.add(hash);
    return { hash, size: bytes.byteLength };
  }

  async putJson(value: Json): Promise<OutputEntry> {
    return this.putBytes(Buffer.from(`${JSON.stringify(value, null, 1)}\n`));
  }

  /** Hash of the blob's current bytes, or undefined when it is missing. */
  async hashOf(hash: string): Promise<string | undefined> {
    try {
      // Small blobs (most records' outputs) in one synchronous read: thousands of streams cost
      // more in buffers and GC than the hashing itself.
      const p = this.objectPath(hash);
      if (statSync(p).size < SMALL_BLOB) return createHash('sha256').update(readFileSync(p)).digest('hex');
      const h = createHash('sha256');
      for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
      return h.digest('hex');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** 'ok', 'missing', or a CorruptBlobError; each blob is hashed at most once per process. */
  async verify(hash: string): Promise<'ok' | 'missing' | CorruptBlobError> {
    if (this.verified.has(hash)) return 'ok';
    const actual = await this.hashOf(hash);
    if (actual === undefined) return 'missing';
    if (actual !== hash) return new CorruptBlobError(this.objectPath(hash), hash, actual);
    this.verified.add(hash);
    return 'ok';
  }

  async readBytes(hash: string): Promise<Buffer> {
    const p = this.objectPath(hash);
    const bytes = await fs.readFile(p);
    const actual = hashBytes(bytes);
    if (actual !== hash) throw new CorruptBlobError(p, hash, actual);
    this.verified.add(hash);
    return bytes;
  }

  /** Moves `file` (inside the store) to quarantine/, for a person to look at; returns where. */
  private async setAside(file: string): Promise<string> {
    this.writable('quarantine');
    const dest = path.join(this.dir, 'quarantine', `${path.basename(file)}.${Date.now()}.${process.pid}`);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    try {
      await fs.rename(file, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return dest; // someone else moved it
      throw e;
    }
    return dest;
  }

  /** Sets a corrupt blob aside so the task that made it is recomputed (and rewrites it). */
  async quarantine(hash: string): Promise<string> {
    this.verified.delete(hash);
    return this.setAside(this.objectPath(hash));
  }

  /** Sets a bad record aside so its task is recomputed. */
  async quarantineRecord(key: string): Promise<string> {
    return this.setAside(this.recordPath(key));
  }

  /** The record of `key`, checked against the record schema; nothing is changed on disk. */
  loadRecord(key: string): RecordRead {
    const p = this.recordPath(key);
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'absent' };
      throw e;
    }
    const parsed = parseRecord(text, key);
    return 'record' in parsed ? { state: 'ok', record: parsed.record } : { state: 'bad', path: p, problem: parsed.problem };
  }

  /** A valid record of `key`, or undefined; a bad one is reported once (by path) and treated as absent. */
  async readRecord(key: string): Promise<TaskRecord | undefined> {
    const r = this.loadRecord(key);
    if (r.state === 'ok') return r.record;
    if (r.state === 'bad') this.warnBadRecord(r.path, r.problem);
    return undefined;
  }

  warnBadRecord(file: string, problem: string): void {
    const fate = this.readOnly ? `\`${this.command ?? '<command>'} run\` will set it aside and recompute its task` : `set aside in ${path.join(this.dir, 'quarantine')}/ and recomputed`;
    this.warnOnce(file, `invalid task record ${file}: ${problem}; ${fate}`);
  }

  async writeRecord(record: TaskRecord): Promise<void> {
    this.writable('writeRecord');
    try {
      await writeFileAtomic(this.recordPath(record.key), `${JSON.stringify(record, null, 1)}\n`, { fsync: true });
    } catch (e) {
      throw this.writeError(e, `task record ${record.key}`);
    }
  }

  async deleteRecord(key: string): Promise<void> {
    this.writable('deleteRecord');
    await fs.rm(this.recordPath(key), { force: true });
  }

  private indexPath(experiment: string, id: string): string {
    return path.join(this.dir, 'index', encodeURIComponent(experiment), `${encodeURIComponent(id)}.json`);
  }

  async readIndex(experiment: string, id: string): Promise<TaskKey | undefined> {
    try {
      const parsed = JSON.parse(readFileSync(this.indexPath(experiment, id), 'utf8')) as { key?: unknown };
      return isHash(parsed.key) ? (parsed.key as TaskKey) : undefined;
    } catch {
      return undefined;
    }
  }

  async writeIndex(experiment: string, id: string, key: TaskKey): Promise<void> {
    this.writable('writeIndex');
    const p = this.indexPath(experiment, id);
    try {
      await fs.mkdir(path.dirname(p), { recursive: true });
      await writeFileAtomic(p, canonicalJson({ key }));
    } catch (e) {
      throw this.writeError(e, `index entry ${p}`);
    }
  }

  private variantPath(name: string): string {
    return path.join(this.dir, 'index', encodeURIComponent(name), '_variant.json');
  }

  /** What a variant name stands for (its base experiment and overrides), so `diff` can name it. */
  async writeVariant(variant: { name: string; base: string; overrides: JsonObject }): Promise<void> {
    this.writable('writeVariant');
    const p = this.variantPath(variant.name);
    await fs.mkdir(path.dirname(p), { recursive: true });
    await writeFileAtomic(p, canonicalJson(variant));
  }

  readVariant(name: string): { name: string; base: string; overrides: JsonObject } | undefined {
    try {
      const v = JSON.parse(readFileSync(this.variantPath(name), 'utf8')) as { name?: unknown; base?: unknown; overrides?: unknown };
      if (typeof v.base !== 'string' || typeof v.overrides !== 'object' || v.overrides === null) return undefined;
      return { name, base: v.base, overrides: v.overrides as JsonObject };
    } catch {
      return undefined;
    }
  }

  /** Names of the variants this store has records for. */
  variantNames(): string[] {
    try {
      return readdirSync(path.join(this.dir, 'index'))
        .map((d) => decodeURIComponent(d))
        .filter((n) => this.readVariant(n) !== undefined);
    } catch {
      return [];
    }
  }

  /**
   * Takes the lock of one task key, waiting while another process holds it. A holder that died
   * (SIGKILL) stops refreshing the lock's mtime, so after `staleMs` it is taken over. Any error
   * other than "held by another process" (EACCES on a read-only store, ENOSPC, ENOTDIR) fails at
   * once: waiting would never end.
   */
  async lock(key: string, staleMs = 5000): Promise<() => Promise<void>> {
    this.writable('lock');
    return lockPath(path.join(this.dir, 'locks', key), staleMs, (e) => this.writeError(e, `lock ${path.join(this.dir, 'locks', `${key}.lock`)}`));
  }
}

/** Locks `file` (proper-lockfile's `<file>.lock` folder), retrying only while another process holds it. */
export async function lockPath(file: string, staleMs: number, wrap: (e: unknown) => Error = (e) => e as Error): Promise<() => Promise<void>> {
  let wait = 50;
  for (;;) {
    try {
      return await lockfile.lock(file, {
        realpath: false,
        stale: staleMs,
        update: Math.max(1000, staleMs / 5),
        retries: 0,
        onCompromised: () => {
          // Another process took over a lock we held (we were suspended past `stale`): the record
          // is written atomically either way, so keep going rather than crash.
        },
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw wrap(e);
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(500, wait * 1.5);
  }
}

/** Kept for callers that list objects/: only names of this shape are blobs. */
export { HASH_RE };

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
