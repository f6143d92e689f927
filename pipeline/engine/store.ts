// Content-addressed artifact store and action cache.
//   objects/<sha256>      immutable blobs
//   tasks/<key>.json      one record per task key (written last, atomically: a record means complete)
//   index/<exp>/<id>.json the key a task id last had in an experiment (for `status` reasons)
//   locks/<key>.lock      per-key locks between concurrent runs
//   tmp/                  partial writes; renamed into place only when complete
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { canonicalJson, hashBytes } from './fingerprint.ts';
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

const HASH_RE = /^[0-9a-f]{64}$/;
const SMALL_BLOB = 1 << 20;

export class Store {
  readonly dir: string;
  private readonly verified = new Set<string>();

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  async init(): Promise<void> {
    await Promise.all(['objects', 'tasks', 'index', 'locks', 'tmp'].map((d) => fs.mkdir(path.join(this.dir, d), { recursive: true })));
  }

  objectPath(hash: string): string {
    return path.join(this.dir, 'objects', hash);
  }

  recordPath(key: string): string {
    return path.join(this.dir, 'tasks', `${key}.json`);
  }

  tmpPath(hint: string): string {
    return path.join(this.dir, 'tmp', `${hint}.${process.pid}.${randomBytes(6).toString('hex')}`);
  }

  /** Stores bytes under their hash: temp file, fsync, rename. Identical content is stored once. */
  async putBytes(bytes: Uint8Array): Promise<OutputEntry> {
    const hash = hashBytes(bytes);
    const dest = this.objectPath(hash);
    if (!(await exists(dest))) {
      const tmp = this.tmpPath(hash.slice(0, 12));
      const fh = await fs.open(tmp, 'w');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, dest);
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

  /** Removes a corrupt blob so the task that made it is recomputed. */
  async quarantine(hash: string): Promise<void> {
    this.verified.delete(hash);
    await fs.rm(this.objectPath(hash), { force: true });
  }

  async readRecord(key: string): Promise<TaskRecord | undefined> {
    let text: string;
    try {
      text = readFileSync(this.recordPath(key), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as TaskRecord;
    } catch {
      // Records are written atomically, so this is outside damage: treat as absent.
      return undefined;
    }
  }

  async writeRecord(record: TaskRecord): Promise<void> {
    await writeFileAtomic(this.recordPath(record.key), `${JSON.stringify(record, null, 1)}\n`, { fsync: true });
  }

  async deleteRecord(key: string): Promise<void> {
    await fs.rm(this.recordPath(key), { force: true });
  }

  private indexPath(experiment: string, id: string): string {
    return path.join(this.dir, 'index', encodeURIComponent(experiment), `${encodeURIComponent(id)}.json`);
  }

  async readIndex(experiment: string, id: string): Promise<TaskKey | undefined> {
    try {
      const parsed = JSON.parse(readFileSync(this.indexPath(experiment, id), 'utf8')) as { key?: string };
      return typeof parsed.key === 'string' ? (parsed.key as TaskKey) : undefined;
    } catch {
      return undefined;
    }
  }

  async writeIndex(experiment: string, id: string, key: TaskKey): Promise<void> {
    const p = this.indexPath(experiment, id);
    await fs.mkdir(path.dirname(p), { recursive: true });
    await writeFileAtomic(p, canonicalJson({ key }));
  }

  private variantPath(name: string): string {
    return path.join(this.dir, 'index', encodeURIComponent(name), '_variant.json');
  }

  /** What a variant name stands for (its base experiment and overrides), so `diff` can name it. */
  async writeVariant(variant: { name: string; base: string; overrides: JsonObject }): Promise<void> {
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
   * (SIGKILL) stops refreshing the lock's mtime, so after `staleMs` it is taken over.
   */
  async lock(key: string, staleMs = 5000): Promise<() => Promise<void>> {
    const file = path.join(this.dir, 'locks', key);
    return lockfile.lock(file, {
      realpath: false,
      stale: staleMs,
      update: Math.max(1000, staleMs / 5),
      retries: { forever: true, minTimeout: 50, maxTimeout: 500, factor: 1.5 },
      onCompromised: () => {
        // Another process took over a lock we held (we were suspended past `stale`): the record
        // is written atomically either way, so keep going rather than crash.
      },
    });
  }

  /**
   * Removes blobs no record references, and leftovers of interrupted writes. With `keepKeys`, also
   * removes every record not in it (and then the blobs only those referenced). `dryRun` counts
   * what would go and removes nothing.
   */
  async gc(opts: { keepKeys?: ReadonlySet<string>; dryRun?: boolean } = {}): Promise<GcResult> {
    const referenced = new Set<string>();
    let removedRecords = 0;
    let keptRecords = 0;
    for (const name of await fs.readdir(path.join(this.dir, 'tasks'))) {
      if (!name.endsWith('.json')) continue;
      const key = name.slice(0, -5);
      if (opts.keepKeys && !opts.keepKeys.has(key)) {
        removedRecords++;
        if (!opts.dryRun) await this.deleteRecord(key);
        continue;
      }
      keptRecords++;
      const rec = await this.readRecord(key);
      for (const o of Object.values(rec?.outputs ?? {})) referenced.add(o.hash);
    }
    let removedBlobs = 0;
    let removedBytes = 0;
    let keptBlobs = 0;
    for (const name of await fs.readdir(path.join(this.dir, 'objects'))) {
      if (HASH_RE.test(name) && referenced.has(name)) {
        keptBlobs++;
        continue;
      }
      const p = this.objectPath(name);
      removedBytes += (await fs.stat(p)).size;
      if (!opts.dryRun) await fs.rm(p, { force: true });
      removedBlobs++;
    }
    let removedTmp = 0;
    for (const name of await fs.readdir(path.join(this.dir, 'tmp'))) {
      const p = path.join(this.dir, 'tmp', name);
      const pid = Number(name.split('.').at(-2));
      if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) continue;
      if (!opts.dryRun) await fs.rm(p, { recursive: true, force: true });
      removedTmp++;
    }
    return { dryRun: opts.dryRun === true, removedRecords, keptRecords, removedBlobs, removedBytes, keptBlobs, removedTmp };
  }
}

export interface GcResult {
  dryRun: boolean;
  removedRecords: number;
  keptRecords: number;
  removedBlobs: number;
  removedBytes: number;
  keptBlobs: number;
  removedTmp: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
