// Content-addressed artifact store and action cache.
//   objects/<sha256>      immutable blobs
//   tasks/<key>.json      one record per task key (written last, atomically: a record means complete)
//   logs/<key>.log        what the task of that key logged, written whole when it ended (before
//                         its record; also when it failed): temp file, rename (no fsync)
//   index/<exp>/tasks.tsv per experiment: the key each task id last had (for `status` reasons)
//                         and a summary of its record with the record file's stat signature, so a
//                         no-op reads one file per experiment instead of one record per task
//                         (index-lines.ts; tasks.jsonl, the JSON-lines form of engines before it,
//                         is read where there is no tasks.tsv yet)
//   verified.tsv          blobs found intact, each with its file's stat signature: a blob is hashed
//                         again only when its file changed (size, inode, mtime or ctime). Asked
//                         where bytes are used (a task's inputs, a published output, run --verify),
//                         not by a no-op, which finds blobs in one listing of objects/
//   locks/<key>.lock      per-key locks between concurrent runs (each a link to its process's token
//                         in tmp/, dir-lock.ts); locks/gc.lock while gc sweeps
//   leases/               one file per live run (gc-lease.ts)
//   quarantine/           bad records and corrupt blobs, set aside for a person to look at
//   tmp/                  partial writes; renamed into place only when complete
//   <area>/               an executor's own files (its jobs' manifests, logs), by its name
// Callers use the interfaces below (blobs, records, index) and never join paths into the store.
// Only `objects/<64 hex>`, `tasks/<64 hex>.json` and `logs/<64 hex>.log` are ever addressed by a hash: a hash read
// from disk is checked (record.ts) before it becomes a path, and the path helpers refuse
// anything else, so a hostile record can never name a file outside the store.
import { isAscii } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, createReadStream, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { tryLock, unlock } from './dir-lock.ts';
import { canonicalJson, hashBytes } from './fingerprint.ts';
import { CorruptBlobError, StoreError, StoreFullError } from './errors.ts';
import { decodeIndexLine, encodeIndexLine, lineKey, unfield } from './index-lines.ts';
import { checkSummary, HASH_RE, isHash, outputsFit, outputsProblem, parseRecord, summarize, type OutputEntry, type RecordSummary, type TaskRecord } from './record.ts';
import type { ContentHash, Json, JsonObject, StageDecl, TaskKey } from './types.ts';

export type { OutputEntry, RecordSummary, TaskRecord } from './record.ts';
export { CorruptBlobError, StoreError } from './errors.ts';

const SMALL_BLOB = 1 << 20;
/**
 * Bytes a process hashes before it reads verified.tsv instead (a line per blob of the store:
 * 17 MB and 0.25 s at 100,000 blobs): a command that checks a few blobs (a no-op's published
 * report, a task's inputs) hashes them in less time than that file takes to read.
 */
const HASH_BEFORE_SIGS = 16 << 20;
const DIRS = ['objects', 'tasks', 'logs', 'index', 'locks', 'leases', 'quarantine', 'tmp'];

/** The store and the folders a command needs accessible (quarantine/ is made when first used). */
export function storeFolders(dir: string, mode: 'read' | 'write'): string[] {
  const subs = mode === 'read' ? ['tasks', 'objects', 'index'] : DIRS.filter((d) => d !== 'quarantine');
  return [dir, ...subs.map((d) => path.join(dir, d))];
}

/** What reading one task record found. */
export type RecordRead =
  | { state: 'absent' }
  | { state: 'ok'; record: TaskRecord }
  | { state: 'bad'; path: string; problem: string };

export interface StoreOptions {
  /** A read-only store (status, show, why, dag): every method that would change a file throws. */
  readOnly?: boolean;
  /** The project's command, named in the cure of a full disk (`<command> gc`). */
  command?: string;
}

/** Why a lookup found no usable record; anything but 'absent' is a diagnostic for the user. */
export type Miss =
  | { why: 'absent' }
  | { why: 'bad-record'; path: string; problem: string; setAside?: string }
  | { why: 'missing-blob'; output: string; path: string }
  | { why: 'corrupt-blob'; output: string; error: CorruptBlobError; setAside?: string };

/** One cache lookup: a record whose outputs all exist and verify, or why there is none. */
export type Lookup<R extends RecordSummary = TaskRecord> = { hit: true; record: R } | { hit: false; miss: Miss };
const ABSENT: { hit: false; miss: Miss } = { hit: false, miss: { why: 'absent' } };

export interface LookupOptions {
  /** The stage the record must belong to, with the outputs it declares. */
  stage?: Pick<StageDecl, 'name' | 'outputs'>;
  /**
   * Set a bad record or corrupt blob aside in quarantine/ so the recomputation can replace it
   * (a run, holding the task's lock); without it nothing on disk changes.
   */
  repair?: boolean;
}

/** The cure for a full disk besides freeing space, naming the project's gc command. */
export function gcHint(command = '<command>'): string {
  return `run \`${command} gc\` to delete blobs no record references`;
}

/** Content-addressed blobs (`objects/<sha256>`): written once, verified on read. */
export interface BlobStore {
  /** Stores bytes under their hash: temp file, fsync, rename. Identical content is stored once. */
  put(bytes: Uint8Array): Promise<OutputEntry>;
  /** Any JSON-serializable value: callers check it against its contract first. */
  putJson(value: unknown): Promise<OutputEntry>;
  /** The bytes, checked against their hash (CorruptBlobError when they differ). */
  read(hash: string): Promise<Buffer>;
  /**
   * 'ok', 'missing', or a CorruptBlobError; each blob is hashed at most once per process, unless
   * `fresh` (a run that lost its gc lease checks its outputs are still there).
   */
  verify(hash: string, fresh?: boolean): Promise<'ok' | 'missing' | CorruptBlobError>;
  /**
   * A blob this process knows intact without reading it: an output a task of this run just
   * wrote (its worker hashed the bytes as it wrote them).
   */
  noteIntact(hash: string): void;
  has(hash: string): Promise<boolean>;
  /** Where a blob lies, to hand to a reader (a task's input, `show`); never to write to. */
  path(hash: string): string;
  /** Every blob's hash. */
  list(): Promise<ContentHash[]>;
  /** Deletes a blob (gc); returns its size, or undefined when it was absent. */
  remove(hash: string, dryRun?: boolean): Promise<number | undefined>;
  /** Sets a corrupt blob aside so the task that made it is recomputed (and rewrites it). */
  quarantine(hash: string): Promise<string>;
}

/** Task records (`tasks/<key>.json`): written last and atomically, so a record means complete. */
export interface RecordStore {
  /** The record of `key`, checked against the record schema; nothing is changed on disk. */
  load(key: string): RecordRead;
  /** A valid record of `key`, or undefined (a bad one is treated as absent; `load` says why). */
  read(key: string): Promise<TaskRecord | undefined>;
  /** Writes the record: `stage`, then `commit`. */
  write(record: TaskRecord): Promise<void>;
  /**
   * The record written whole to a temp file in tmp/ and fsynced, not yet in place: a worker
   * stages its task's record, the scheduler commits it (a process that dies between the two
   * leaves only the temp file, which gc removes).
   */
  stage(record: TaskRecord): string;
  /** Renames a staged record into place (atomic: a record file is always complete). */
  commit(staged: string, key: string): void;
  /** Every key with a record file. */
  list(): Promise<TaskKey[]>;
  /** The record file's stat signature (size, inode, mtime, ctime), or undefined when it is absent. */
  sig(key: string): string | undefined;
  delete(key: string): Promise<void>;
  /** Sets a bad record aside so its task is recomputed. */
  quarantine(key: string): Promise<string>;
  /** The record's file, for messages. */
  where(key: string): string;
}

/**
 * Each task's log (`logs/<key>.log`): every line the task logged, written whole when it ends, so
 * a log file is always complete; a task run again (--force, or after a failure) replaces it.
 */
export interface TaskLogStore {
  /** Writes the log of `key` (temp file in tmp/, rename); returns its path. */
  write(key: string, text: string): Promise<string>;
  /** Where the log of `key` lies (whether or not it exists). */
  path(key: string): string;
  exists(key: string): boolean;
  /** Every key with a log file. */
  list(): Promise<TaskKey[]>;
  /** Deletes the log of `key` (gc); true when there was one. */
  remove(key: string, dryRun?: boolean): Promise<boolean>;
}

/** Per experiment (or variant): the key each task id last had, and what a variant name stands for. */
export interface RunIndex {
  key(experiment: string, id: string): Promise<TaskKey | undefined>;
  /**
   * Notes that `id` now has `key`, and (with `sig`) the summary of its record as validated while
   * its file had that stat signature. Kept in memory and appended to the experiment's index on
   * `flush` (a lost line only costs a full read of the record next time).
   */
  setKey(experiment: string, id: string, key: TaskKey, known?: { sig: string; record: RecordSummary }): Promise<void>;
  /** The summary of the record of `key` as indexed for `experiment`, with the signature its file had. */
  known(experiment: string, key: string): { sig: string; record: RecordSummary } | undefined;
  /**
   * What `known` would give for `key` without decoding a line again: the summary this process
   * noted, or the index line (index-lines.ts, without its newline) as read. For a caller that has
   * had `known` check that line in this process (a run writing its plan).
   */
  knownRaw(experiment: string, key: string): { sig: string; record: RecordSummary } | string | undefined;
  variant(name: string): VariantInfo | undefined;
  setVariant(variant: VariantInfo): Promise<void>;
  /** Names of the variants this store has records for. */
  variants(): string[];
  /** The executor the experiment's last run used: read commands key as it did. */
  executor(experiment: string): string | undefined;
  setExecutor(experiment: string, kind: string): Promise<void>;
  /** Where the experiment's plan file (proven-plan.ts) lies, whether or not it exists. */
  planPath(experiment: string): string;
  /** Replaces the experiment's plan file (atomically). */
  setPlan(experiment: string, text: string): void;
}

// A type, not an interface: it must stay assignable to Json.
export type VariantInfo = { name: string; base: string; overrides: JsonObject };

/** The store's own folders; any other lower-case name is an area an executor keeps its files in. */
const OWN = new Set(DIRS);

export class Store {
  readonly dir: string;
  readonly readOnly: boolean;
  readonly blobs: BlobStore;
  readonly records: RecordStore;
  readonly logs: TaskLogStore;
  readonly index: RunIndex;
  private readonly files: Files;

  constructor(dir: string, opts: StoreOptions = {}) {
    this.dir = path.resolve(dir);
    this.readOnly = opts.readOnly ?? false;
    const files = (this.files = new Files(this.dir, this.readOnly, opts.command));
    this.blobs = new Blobs(files);
    this.records = new Records(files);
    this.logs = new Logs(files);
    this.index = new Index(files);
  }

  /**
   * `lookup` for a task of `experiment`, answered from the experiment's index while the record
   * file's stat signature is the one it had when it was last validated in full (any change to the
   * file, even a `touch`, means a full read and validation again). Blobs are verified as in
   * `lookup`. A writable store indexes what it had to read in full.
   */
  async lookupIndexed(key: string, experiment: string, opts: LookupOptions = {}): Promise<Lookup<RecordSummary>> {
    const sig = this.records.sig(key);
    if (sig === undefined) return { hit: false, miss: { why: 'absent' } };
    const known = this.index.known(experiment, key);
    if (known && known.sig === sig) {
      const problem = opts.stage && outputsProblem(known.record, opts.stage);
      // A record of another stage or outputs: read in full, so the miss says what the file holds.
      if (!problem) return this.verifyOutputs(known.record, opts);
    }
    const found = await this.lookup(key, opts);
    if (found.hit && !this.readOnly) await this.index.setKey(experiment, found.record.id, found.record.key, { sig, record: summarize(found.record) });
    return found;
  }

  /**
   * lookupIndexed's answer when it costs no waiting and no reading: 'absent' (no record file),
   * or a hit from the index whose record file has the signature it was indexed with (any change
   * to it, even a `touch`, means a full read and validation) and whose output blobs are in
   * objects/ (one readdir for the whole plan, not a stat per blob). A blob's bytes are checked
   * where they are used: before a task reads it (the scheduler's input check, which recomputes
   * its producer when it is corrupt or gone), when it is published, by every `blobs.read`, and
   * by `run --verify`. undefined: ask lookupIndexed (a record to read in full, a blob not
   * listed, a miss to explain). `verify` (run --verify): each record file stat-ed now, and each
   * blob's stat signature compared with verified.tsv's (undefined where it changed: hashed then).
   */
  lookupNow(key: string, experiment: string, stage?: Pick<StageDecl, 'name' | 'outputs'>, verify = false): Lookup<RecordSummary> | undefined {
    let known: Known | undefined;
    if (!verify && this.unchangedRecords(experiment).has(key)) known = this.index.known(experiment, key);
    else {
      // Not in the listing of tasks/ (read once): absent then. A record made since (by another
      // run) is found by the lookup under the key's lock before the task runs. A stat of a missing
      // file costs a cold run about as much as the rest of the lookup.
      if (!verify && !this.files.recordListed(key)) return ABSENT;
      const sig = this.records.sig(key);
      if (sig === undefined) return ABSENT;
      known = this.index.known(experiment, key);
      if (!known || known.sig !== sig) return undefined;
    }
    if (!known) return undefined;
    if (stage && !outputsFit(known.record, stage)) return undefined;
    const outs = known.record.outputs;
    if (verify) {
      for (const name in outs) if (Object.hasOwn(outs, name) && !this.files.verifiedNow(this.blobs.path(outs[name]!.hash), outs[name]!.hash)) return undefined;
    } else {
      const objects = this.files.objectsListed();
      for (const name in outs) if (Object.hasOwn(outs, name) && !objects.has(outs[name]!.hash)) return undefined;
    }
    return { hit: true, record: known.record };
  }

  /** Whether `hash` is in the listing of objects/ (read once per process, as lookupNow reads it). */
  blobListed(hash: string): boolean {
    return this.files.objectsListed().has(hash);
  }

  private readonly unchanged = new Map<string, Set<string>>();
  /**
   * The keys of `experiment`'s index whose record file had, when first asked, the stat
   * signature its index line holds: every record file stat-ed in one loop, before the plan's
   * lookups (100,000 stats take half the time there that they take one at a time between
   * keying tasks, the kernel's caches still warm from the one before). A Store serves one
   * command, which looks each task up once: a record changed after this snapshot counts as
   * changed after its lookup, as any record edited while a run goes on does.
   */
  private unchangedRecords(experiment: string): Set<string> {
    let keys = this.unchanged.get(experiment);
    if (!keys) {
      keys = new Set();
      const index = this.index as Index;
      for (const key of index.indexedKeys(experiment)) {
        const sig = this.records.sig(key);
        if (sig !== undefined && index.indexedWith(experiment, key, sig)) keys.add(key);
      }
      this.unchanged.set(experiment, keys);
    }
    return keys;
  }

  /** Pending index lines and verified blobs, written out (a run calls it now and then and at its end). */
  flush(): void {
    if (this.readOnly) return;
    (this.index as Index).flush();
    this.files.flushVerified();
  }

  /**
   * The usable record of `key`: schema-valid, of `opts.stage` with its declared outputs, every
   * output's blob present and hash-verified. Otherwise the miss and why; with `repair` a bad
   * record or a corrupt blob is set aside first.
   */
  async lookup(key: string, opts: LookupOptions = {}): Promise<Lookup> {
    const read = this.records.load(key);
    if (read.state === 'absent') return { hit: false, miss: { why: 'absent' } };
    const problem = read.state === 'bad' ? read.problem : opts.stage && outputsProblem(read.record, opts.stage);
    if (read.state === 'bad' || problem) {
      const setAside = opts.repair ? await this.records.quarantine(key) : undefined;
      return { hit: false, miss: { why: 'bad-record', path: this.records.where(key), problem: problem!, ...(setAside ? { setAside } : {}) } };
    }
    return this.verifyOutputs(read.record, opts);
  }

  private async verifyOutputs<R extends RecordSummary>(record: R, opts: LookupOptions): Promise<Lookup<R>> {
    for (const [output, out] of Object.entries(record.outputs)) {
      const v = await this.blobs.verify(out.hash);
      if (v === 'ok') continue;
      if (v === 'missing') return { hit: false, miss: { why: 'missing-blob', output, path: this.blobs.path(out.hash) } };
      const setAside = opts.repair ? await this.blobs.quarantine(out.hash) : undefined;
      return { hit: false, miss: { why: 'corrupt-blob', output, error: v, ...(setAside ? { setAside } : {}) } };
    }
    return { hit: true, record };
  }

  async init(): Promise<void> {
    if (this.readOnly) throw new Error(`internal: init on a read-only store (${this.dir})`);
    await Promise.all(DIRS.map((d) => fs.mkdir(path.join(this.dir, d), { recursive: true })));
  }

  /** A fresh path in tmp/ for a partial write or a task's scratch folder (gc removes leftovers). */
  scratchPath(hint: string): string {
    return this.files.tmpPath(hint);
  }

  /** Whatever lies in tmp/ (paths): interrupted writes, or those of live processes. */
  async scratchEntries(): Promise<string[]> {
    return (await listDir(path.join(this.dir, 'tmp'))).map((n) => path.join(this.dir, 'tmp', n));
  }

  /** 'leases', 'locks', 'quarantine', or an executor's own folder (its name). */
  area(name: string): string {
    if (!/^[a-z][a-z0-9-]*$/.test(name) || (OWN.has(name) && !['leases', 'locks', 'quarantine'].includes(name)))
      throw new Error(`internal: '${name}' is not an area of the store`);
    return path.join(this.dir, name);
  }

  /**
   * Takes the lock of one task key, waiting while another process holds it. A holder that died
   * (SIGKILL) stops refreshing the lock's mtime, so after `staleMs` it is taken over. Any error
   * other than "held by another process" (EACCES on a read-only store, ENOSPC, ENOTDIR) fails at
   * once: waiting would never end.
   */
  async lock(key: string, staleMs = 5000): Promise<() => Promise<void>> {
    if (this.readOnly) throw new Error(`internal: lock on a read-only store (${this.dir})`);
    const file = `${this.files.locksDir}${key}`;
    // The token its locks link to lies in tmp/ (gc removes one a killed process left there).
    return lockPath(file, staleMs, (e) => this.files.writeError(e, `lock ${file}.lock`), path.join(this.dir, 'tmp'));
  }
}

/**
 * A file's size, inode, mtime and ctime, or undefined when it is absent. The times as float
 * milliseconds (sub-microsecond digits): a bigint stat costs twice as much, per blob per no-op.
 * ctime cannot be set back by a user, so a rewrite always changes the signature.
 */
function statSig(p: string): string | undefined {
  const st = statSync(p, { throwIfNoEntry: false });
  return st && st.isFile() ? `${st.size}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}` : undefined;
}


/** What the three parts share: the folder, read-only-ness, and how a failed write is told. */
/** The names in a folder of the store, or none when it is not there yet. */
function namesIn(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return new Set();
  }
}

class Files {
  /** Blobs hashed (or found unchanged since they were) in this process, so each is read at most once. */
  readonly verified = new Set<string>();
  /** The names in objects/, read once (by lookupNow) and kept current with this process's own changes. */
  private objectNames: Set<string> | undefined;
  /**
   * verified.tsv: blob hash -> the stat signature its file had when it was found intact: where
   * it starts in `sigText` (the file as read; compared in place, never cut out), or as noted here.
   */
  private sigs: Map<string, number | string> | undefined;
  private sigText = '';
  private pendingSigs: string[] = [];
  private compact = false;
  /** `<dir>/objects/`, `<dir>/tasks/`, `<dir>/logs/`, `<dir>/locks/`: joined once, not per path (a no-op builds two per task). */
  readonly objectsDir: string;
  readonly tasksDir: string;
  readonly logsDir: string;
  readonly locksDir: string;

  constructor(
    readonly dir: string,
    readonly readOnly: boolean,
    readonly command: string | undefined,
  ) {
    this.objectsDir = path.join(dir, 'objects') + path.sep;
    this.tasksDir = path.join(dir, 'tasks') + path.sep;
    this.logsDir = path.join(dir, 'logs') + path.sep;
    this.locksDir = path.join(dir, 'locks') + path.sep;
  }

  private get sigFile(): string {
    return path.join(this.dir, 'verified.tsv');
  }

  private loadSigs(): Map<string, number | string> {
    if (this.sigs) return this.sigs;
    const sigs = (this.sigs = new Map());
    let lines = 0;
    let text = '';
    try {
      text = readText(this.sigFile);
    } catch {
      // absent or unreadable: every blob is hashed, as without it
    }
    this.sigText = text;
    // `<hash>\t<signature>` per line; a signature of another shape never equals a file's.
    for (let start = 0; start < text.length; ) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      if (end - start > 65 && text.charCodeAt(start + 64) === 9 /* \t */) {
        const hash = text.slice(start, start + 64);
        if (isHash(hash)) {
          lines++;
          sigs.set(hash, start + 65);
        }
      }
      start = end + 1;
    }
    // Repeated lines (blobs re-verified after a change): rewrite the file at the next flush.
    this.compact = lines > 1000 && lines > 2 * sigs.size;
    return sigs;
  }

  /**
   * The names in objects/: one readdir per process (100,000 names in 0.2–0.35 s in a no-op's
   * profile, against 1.8 s for a stat of each and its line in verified.tsv). A blob another process adds later is not in it (its task is then
   * looked up in full); one removed later is caught where bytes are used (a blob is verified
   * before a task reads it).
   */
  objectsListed(): Set<string> {
    return (this.objectNames ??= namesIn(this.objectsDir));
  }

  private recordNames: Set<string> | undefined;
  /** Whether tasks/ held a record of `key` when first listed (by lookupNow) in this process. */
  recordListed(key: string): boolean {
    return (this.recordNames ??= namesIn(this.tasksDir)).has(`${key}.json`);
  }

  /** Keeps the listing of objects/, if read, current: `hash` was added (or removed) by this process. */
  listed(hash: string, present: boolean): void {
    if (present) this.objectNames?.add(hash);
    else this.objectNames?.delete(hash);
  }

  private hashedBeforeSigs = 0;

  /**
   * Whether to ask verified.tsv about a blob of `size` bytes (else it is hashed): once it is
   * read, or once this process has hashed HASH_BEFORE_SIGS bytes without it.
   */
  worthAskingSigs(size: number): boolean {
    if (this.sigs) return true;
    if (this.hashedBeforeSigs + size > HASH_BEFORE_SIGS) return true;
    this.hashedBeforeSigs += size;
    return false;
  }

  /** Whether the blob at `file` is verified without reading it: in this process, or by verified.tsv with its file unchanged. */
  verifiedNow(file: string, hash: string): boolean {
    if (this.verified.has(hash)) return true;
    const sig = statSig(file);
    if (sig === undefined || !this.verifiedAs(hash, sig)) return false;
    this.verified.add(hash);
    return true;
  }

  /** Whether `hash`'s file had signature `sig` when last found intact (any process, any run). */
  verifiedAs(hash: string, sig: string): boolean {
    const at = this.loadSigs().get(hash);
    if (typeof at === 'string' || at === undefined) return at === sig;
    const end = at + sig.length;
    return this.sigText.startsWith(sig, at) && (end === this.sigText.length || this.sigText.charCodeAt(end) === 10);
  }

  private sigOf(at: number | string): string {
    if (typeof at === 'string') return at;
    const end = this.sigText.indexOf('\n', at);
    return this.sigText.slice(at, end < 0 ? undefined : end);
  }

  /** Remembers that `hash`'s file, with signature `sig`, was found intact. */
  noteVerified(hash: string, sig: string, now = false): void {
    this.verified.add(hash);
    // Not verified.tsv read just to skip a line it has (a worker writing a blob would read the
    // whole file per task): a repeated line costs nothing but its bytes, and a rewrite in time.
    if (this.readOnly || (this.sigs && this.verifiedAs(hash, sig))) return;
    this.sigs?.set(hash, sig);
    this.pendingSigs.push(`${hash}\t${sig}\n`);
    if (now || this.pendingSigs.length >= 4096) this.flushVerified();
  }

  flushVerified(): void {
    if (this.readOnly || (!this.pendingSigs.length && !this.compact)) return;
    try {
      if (this.compact) {
        writeFileAtomic.sync(this.sigFile, [...this.sigs!].map(([h, at]) => `${h}\t${this.sigOf(at)}\n`).join(''));
        this.compact = false;
      } else appendFileSync(this.sigFile, this.pendingSigs.join(''));
    } catch {
      // Only a cache of work done: a failed write costs hashing again next time.
    }
    this.pendingSigs = [];
  }

  writable(what: string): void {
    if (this.readOnly) throw new Error(`internal: ${what} on a read-only store (${this.dir})`);
  }

  writeError(e: unknown, what: string): Error {
    return writeError(e, what, this.dir, this.command);
  }

  tmpPath(hint: string): string {
    return path.join(this.dir, 'tmp', `${hint}.${process.pid}.${randomBytes(6).toString('hex')}`);
  }

  /** Moves `file` (inside the store) to quarantine/, for a person to look at; returns where. */
  async setAside(file: string): Promise<string> {
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
}

/** A write failed: a full disk is named with the store and the cure; anything else passes through. */
function writeError(e: unknown, what: string, dir: string, command: string | undefined): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new StoreFullError(`no space left for the store ${dir} while writing ${what}: free disk space, or ${gcHint(command)}`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new StoreError(`cannot write ${what} into the store ${dir} (${code}): the store is not writable`);
  return e as Error;
}

class Blobs implements BlobStore {
  constructor(private readonly f: Files) {}

  path(hash: string): string {
    if (!isHash(hash)) throw new Error(`internal: refusing blob path for '${hash}' (not a sha256 hex digest)`);
    return this.f.objectsDir + hash;
  }

  async put(bytes: Uint8Array): Promise<OutputEntry> {
    this.f.writable('putBytes');
    const hash = hashBytes(bytes);
    const dest = this.path(hash);
    if (!(await exists(dest))) {
      const tmp = this.f.tmpPath(hash.slice(0, 12));
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
        throw this.f.writeError(e, `blob ${hash}`);
      }
    }
    const sig = statSig(dest);
    if (sig) this.f.noteVerified(hash, sig, true);
    else this.f.verified.add(hash);
    this.f.listed(hash, true);
    return { hash, size: bytes.byteLength };
  }

  putJson(value: unknown): Promise<OutputEntry> {
    return this.put(Buffer.from(`${JSON.stringify(value, null, 1)}\n`));
  }

  /** Hash of the blob's current bytes, or undefined when it is missing. */
  private async hashOf(hash: string): Promise<string | undefined> {
    try {
      // Small blobs (most records' outputs) in one synchronous read: thousands of streams cost
      // more in buffers and GC than the hashing itself.
      const p = this.path(hash);
      if (statSync(p).size < SMALL_BLOB) return createHash('sha256').update(readFileSync(p)).digest('hex');
      const h = createHash('sha256');
      for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
      return h.digest('hex');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async verify(hash: string, fresh = false): Promise<'ok' | 'missing' | CorruptBlobError> {
    if (fresh) this.f.verified.delete(hash);
    if (this.f.verified.has(hash)) return 'ok';
    // The signature before the bytes: a change while they are read shows as a new signature.
    const sig = statSig(this.path(hash));
    if (sig === undefined) {
      this.f.listed(hash, false);
      return 'missing';
    }
    if (!fresh && this.f.worthAskingSigs(Number(sig.slice(0, sig.indexOf(':')))) && this.f.verifiedAs(hash, sig)) {
      this.f.verified.add(hash);
      return 'ok';
    }
    const actual = await this.hashOf(hash);
    if (actual === undefined) return 'missing';
    if (actual !== hash) return new CorruptBlobError(this.path(hash), hash, actual);
    this.f.noteVerified(hash, sig);
    return 'ok';
  }

  noteIntact(hash: string): void {
    this.f.verified.add(hash);
    this.f.listed(hash, true);
  }

  has(hash: string): Promise<boolean> {
    return exists(this.path(hash));
  }

  /** Always hashed, whatever verified.tsv says: bytes a task uses are checked as they are read. */
  async read(hash: string): Promise<Buffer> {
    const p = this.path(hash);
    const bytes = await fs.readFile(p);
    const actual = hashBytes(bytes);
    if (actual !== hash) throw new CorruptBlobError(p, hash, actual);
    this.f.verified.add(hash);
    return bytes;
  }

  async list(): Promise<ContentHash[]> {
    // Only names of this shape are blobs (and ours to remove).
    return (await listDir(path.join(this.f.dir, 'objects'))).filter((n) => HASH_RE.test(n)) as ContentHash[];
  }

  async remove(hash: string, dryRun = false): Promise<number | undefined> {
    const p = this.path(hash);
    const st = await fs.lstat(p).catch(() => undefined);
    if (!st) return undefined;
    if (!dryRun) {
      this.f.writable('remove');
      await fs.rm(p, { force: true });
      this.f.verified.delete(hash);
      this.f.listed(hash, false);
    }
    return st.size;
  }

  async quarantine(hash: string): Promise<string> {
    this.f.verified.delete(hash);
    this.f.listed(hash, false);
    return this.f.setAside(this.path(hash));
  }
}

class Records implements RecordStore {
  constructor(private readonly f: Files) {}

  where(key: string): string {
    if (!isHash(key)) throw new Error(`internal: refusing record path for '${key}' (not a sha256 hex digest)`);
    return `${this.f.tasksDir}${key}.json`;
  }

  load(key: string): RecordRead {
    const p = this.where(key);
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

  async read(key: string): Promise<TaskRecord | undefined> {
    const r = this.load(key);
    return r.state === 'ok' ? r.record : undefined;
  }

  async write(record: TaskRecord): Promise<void> {
    this.commit(this.stage(record), record.key);
  }

  stage(record: TaskRecord): string {
    this.f.writable('writeRecord');
    const tmp = this.f.tmpPath(`record-${record.key.slice(0, 12)}`);
    // Synchronous: a few kilobytes and one fsync cost less CPU than the thread pool's round trips.
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'w');
      writeSync(fd, `${JSON.stringify(record, null, 1)}\n`);
      fsyncSync(fd);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw this.f.writeError(e, `task record ${record.key}`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return tmp;
  }

  commit(staged: string, key: string): void {
    this.f.writable('writeRecord');
    try {
      renameSync(staged, this.where(key));
    } catch (e) {
      rmSync(staged, { force: true });
      throw this.f.writeError(e, `task record ${key}`);
    }
  }

  sig(key: string): string | undefined {
    return statSig(this.where(key));
  }

  async list(): Promise<TaskKey[]> {
    // Anything else in tasks/ is not a record (e.g. a write's temp file).
    return (await listDir(path.join(this.f.dir, 'tasks'))).filter((n) => n.endsWith('.json') && HASH_RE.test(n.slice(0, -5))).map((n) => n.slice(0, -5) as TaskKey);
  }

  async delete(key: string): Promise<void> {
    this.f.writable('deleteRecord');
    await fs.rm(this.where(key), { force: true });
  }

  quarantine(key: string): Promise<string> {
    return this.f.setAside(this.where(key));
  }
}

class Logs implements TaskLogStore {
  constructor(private readonly f: Files) {}

  path(key: string): string {
    if (!isHash(key)) throw new Error(`internal: refusing log path for '${key}' (not a sha256 hex digest)`);
    return `${this.f.logsDir}${key}.log`;
  }

  async write(key: string, text: string): Promise<string> {
    this.f.writable('writeLog');
    const dest = this.path(key);
    const tmp = this.f.tmpPath(`log-${key.slice(0, 12)}`);
    try {
      // Not fsynced (unlike blobs and records): a log is for people, nothing reads it to decide
      // anything, and an fsync would double what a log costs the run. A crash of the process
      // leaves the old log or the new one; only a power loss could leave it empty.
      await fs.writeFile(tmp, text);
      await fs.rename(tmp, dest).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
        // logs/ missing (a batch job on a store a run of an older engine made): made on first use.
        await fs.mkdir(path.dirname(dest), { recursive: true });
        await fs.rename(tmp, dest);
      });
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw this.f.writeError(e, `task log ${dest}`);
    }
    return dest;
  }

  exists(key: string): boolean {
    return statSig(this.path(key)) !== undefined;
  }

  async list(): Promise<TaskKey[]> {
    return (await listDir(path.join(this.f.dir, 'logs'))).filter((n) => n.endsWith('.log') && HASH_RE.test(n.slice(0, -4))).map((n) => n.slice(0, -4) as TaskKey);
  }

  async remove(key: string, dryRun = false): Promise<boolean> {
    if (!this.exists(key)) return false;
    if (!dryRun) {
      this.f.writable('removeLog');
      await fs.rm(this.path(key), { force: true });
    }
    return true;
  }
}

/** A record's summary as this process noted it, with its file's stat signature. */
type Known = { sig: string; record: RecordSummary };

/**
 * One experiment's index (index/<exp>/tasks.tsv), as read and as added to since. Its lines are
 * decoded when asked for, not as the file is read: a no-op asks for each once, and 100,000
 * decoded summaries held for the whole command cost more in garbage collection than decoding.
 */
interface ExperimentIndex {
  /** tasks.tsv as read ('' where there is none). */
  text: string;
  /** Key -> where its last line with a summary starts in `text`, or what this process noted. */
  byKey: Map<string, number | Known>;
  /** Id -> key: made on first use (a run recording a task, `status` of a task not cached). */
  byId: Map<string, TaskKey> | undefined;
  pending: string[];
  /** Lines read: many more than ids means rewrite it whole at the next flush. */
  lines: number;
  compact: boolean;
}

/** Where the line starting at `start` ends (its newline, or the end of the text). */
function lineEnd(text: string, start: number): number {
  const end = text.indexOf('\n', start);
  return end < 0 ? text.length : end;
}

class Index implements RunIndex {
  private readonly experiments = new Map<string, ExperimentIndex>();
  constructor(private readonly f: Files) {}

  /** Before the per-experiment index: one small file per task id (still read when an id is not in it). */
  private keyPath(experiment: string, id: string): string {
    return path.join(this.f.dir, 'index', encodeURIComponent(experiment), `${encodeURIComponent(id)}.json`);
  }

  private indexPath(experiment: string): string {
    return path.join(this.f.dir, 'index', encodeURIComponent(experiment), 'tasks.tsv');
  }

  /** The index as engines before tasks.tsv wrote it (JSON lines), read where there is no tasks.tsv. */
  private legacyIndexPath(experiment: string): string {
    return path.join(this.f.dir, 'index', encodeURIComponent(experiment), 'tasks.jsonl');
  }

  /**
   * Reads the experiment's index once, noting where each key's line is. A line is checked like
   * a record when it is decoded (a hash before it names a file, the summary as the record schema
   * would); one that fails counts as absent, which only means that record is read in full.
   */
  private load(experiment: string): ExperimentIndex {
    let e = this.experiments.get(experiment);
    if (e) return e;
    e = { text: '', byKey: new Map(), byId: undefined, pending: [], lines: 0, compact: false };
    this.experiments.set(experiment, e);
    try {
      e.text = readText(this.indexPath(experiment));
    } catch {
      // No tasks.tsv yet: the JSON-lines index of an older engine, written as tasks.tsv at the next flush.
      this.loadLegacy(experiment, e);
      return e;
    }
    const { text } = e;
    for (let start = 0; start < text.length; ) {
      const end = lineEnd(text, start); // a last line cut short is checked like any other
      const at = lineKey(text, start, end);
      if (at) {
        e.lines++;
        // A line with the key alone leaves the summary of an earlier line in place.
        if (at.summary) e.byKey.set(at.key, start);
      }
      start = end + 1;
    }
    return e;
  }

  private loadLegacy(experiment: string, e: ExperimentIndex): void {
    const byId = (e.byId = new Map());
    let text = '';
    try {
      text = readFileSync(this.legacyIndexPath(experiment), 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let v: { id?: unknown; key?: unknown; sig?: unknown; record?: unknown };
      try {
        v = JSON.parse(line) as typeof v;
      } catch {
        continue;
      }
      if (typeof v !== 'object' || v === null || typeof v.id !== 'string' || !isHash(v.key)) continue;
      e.lines++;
      byId.set(v.id, v.key as TaskKey);
      const record = typeof v.sig === 'string' ? checkSummary(v.record, v.key) : undefined;
      if (record && record.id === v.id) e.byKey.set(v.key, { sig: v.sig as string, record });
    }
    e.compact = e.lines > 0;
  }

  /** Id -> key, read from the lines on first use; decides whether the file is due a rewrite. */
  private ids(e: ExperimentIndex): Map<string, TaskKey> {
    if (e.byId) return e.byId;
    const byId = (e.byId = new Map());
    const { text } = e;
    for (let start = 0; start < text.length; ) {
      const end = lineEnd(text, start);
      const at = lineKey(text, start, end);
      const id = at && unfield(text.slice(start, at.idEnd));
      if (id !== undefined) byId.set(id, at!.key);
      start = end + 1;
    }
    e.compact ||= e.lines > 1000 && e.lines > 2 * byId.size;
    return byId;
  }

  /** The keys with a summary in the experiment's index. */
  indexedKeys(experiment: string): Iterable<string> {
    return this.load(experiment).byKey.keys();
  }

  /** Whether `key`'s summary was noted with record signature `sig` (compared in the line, not decoded). */
  indexedWith(experiment: string, key: string, sig: string): boolean {
    const e = this.load(experiment);
    const at = e.byKey.get(key);
    if (at === undefined) return false;
    if (typeof at !== 'number') return at.sig === sig;
    // `id<TAB>key<TAB>sig<TAB>...`: an id holds no raw tab (field() quotes one), a key is 64 hex.
    const sigAt = e.text.indexOf('\t', at) + 66;
    return e.text.startsWith(sig, sigAt) && e.text.charCodeAt(sigAt + sig.length) === 9;
  }

  known(experiment: string, key: string): Known | undefined {
    const e = this.load(experiment);
    const at = e.byKey.get(key);
    if (typeof at !== 'number') return at;
    const entry = decodeIndexLine(e.text.slice(at, lineEnd(e.text, at)));
    return entry?.key === key ? entry.known : undefined;
  }

  knownRaw(experiment: string, key: string): Known | string | undefined {
    const e = this.load(experiment);
    const at = e.byKey.get(key);
    return typeof at === 'number' ? e.text.slice(at, lineEnd(e.text, at)) : at;
  }

  flush(): void {
    for (const [experiment, e] of this.experiments) {
      if (!e.pending.length && !e.compact) continue;
      const p = this.indexPath(experiment);
      try {
        mkdirp(path.dirname(p));
        if (e.compact) {
          const lines = [...this.ids(e)].map(([id, key]) => {
            const k = this.known(experiment, key);
            return encodeIndexLine(k && k.record.id === id ? { id, key, known: k } : { id, key });
          });
          writeFileAtomic.sync(p, lines.join(''));
          e.compact = false;
        } else appendFileSync(p, e.pending.join(''));
      } catch (err) {
        throw this.f.writeError(err, `index ${p}`);
      } finally {
        e.pending = [];
      }
    }
  }

  private variantPath(name: string): string {
    return path.join(this.f.dir, 'index', encodeURIComponent(name), '_variant.json');
  }

  async key(experiment: string, id: string): Promise<TaskKey | undefined> {
    const indexed = this.ids(this.load(experiment)).get(id);
    if (indexed) return indexed;
    try {
      const parsed = JSON.parse(readFileSync(this.keyPath(experiment, id), 'utf8')) as { key?: unknown };
      return isHash(parsed.key) ? (parsed.key as TaskKey) : undefined;
    } catch {
      return undefined;
    }
  }

  async setKey(experiment: string, id: string, key: TaskKey, known?: { sig: string; record: RecordSummary }): Promise<void> {
    this.f.writable('writeIndex');
    const e = this.load(experiment);
    const byId = this.ids(e);
    if (byId.get(id) === key && (!known || this.known(experiment, key)?.sig === known.sig)) return;
    byId.set(id, key);
    if (known) e.byKey.set(key, known);
    e.pending.push(encodeIndexLine(known ? { id, key, known } : { id, key }));
    if (e.pending.length >= 4096) this.flush();
  }

  async setVariant(variant: VariantInfo): Promise<void> {
    this.f.writable('writeVariant');
    const p = this.variantPath(variant.name);
    await fs.mkdir(path.dirname(p), { recursive: true });
    await writeFileAtomic(p, canonicalJson(variant));
  }

  variant(name: string): VariantInfo | undefined {
    try {
      const v = JSON.parse(readFileSync(this.variantPath(name), 'utf8')) as { name?: unknown; base?: unknown; overrides?: unknown };
      if (typeof v.base !== 'string' || typeof v.overrides !== 'object' || v.overrides === null) return undefined;
      return { name, base: v.base, overrides: v.overrides as JsonObject };
    } catch {
      return undefined;
    }
  }

  private executorPath(experiment: string): string {
    return path.join(this.f.dir, 'index', encodeURIComponent(experiment), '_executor.json');
  }

  executor(experiment: string): string | undefined {
    try {
      const v = JSON.parse(readFileSync(this.executorPath(experiment), 'utf8')) as { executor?: unknown };
      return typeof v.executor === 'string' ? v.executor : undefined;
    } catch {
      return undefined;
    }
  }

  async setExecutor(experiment: string, kind: string): Promise<void> {
    if (this.executor(experiment) === kind) return;
    this.f.writable('writeIndex');
    const p = this.executorPath(experiment);
    await fs.mkdir(path.dirname(p), { recursive: true });
    await writeFileAtomic(p, canonicalJson({ executor: kind }));
  }

  planPath(experiment: string): string {
    return path.join(this.f.dir, 'index', encodeURIComponent(experiment), 'plan.tsv');
  }

  setPlan(experiment: string, text: string): void {
    this.f.writable('writePlan');
    const p = this.planPath(experiment);
    // Written to a temp file a megabyte at a time (24 MB at 100,000 tasks: one buffer of it costs
    // more to fill than the writes), then renamed into place. Not fsynced: a plan file cut short by
    // a crash fails its length check, which only costs a planned no-op.
    const tmp = this.f.tmpPath('plan');
    try {
      mkdirp(path.dirname(p));
      const fd = openSync(tmp, 'w');
      try {
        for (let i = 0; i < text.length; i += 1 << 20) writeSync(fd, text.slice(i, i + (1 << 20)), null, 'latin1');
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, p);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw this.f.writeError(err, `plan ${p}`);
    }
  }

  variants(): string[] {
    try {
      return readdirSync(path.join(this.f.dir, 'index'))
        .map((d) => decodeURIComponent(d))
        .filter((n) => this.variant(n) !== undefined);
    } catch {
      return [];
    }
  }
}

/**
 * A file of the store's own (an index, verified.tsv) as text: ASCII, but for an odd task id, and
 * decoding ASCII as latin1 takes a fifth of the time of UTF-8 (tens of megabytes at 100,000 tasks).
 */
function readText(file: string): string {
  const bytes = readFileSync(file);
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

function mkdirp(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Locks `file` (`<file>.lock`: a link to this process's token in `tokenDir`, or a folder,
 * dir-lock.ts), retrying only while another process holds it.
 */
export async function lockPath(file: string, staleMs: number, wrap: (e: unknown) => Error = (e) => e as Error, tokenDir?: string): Promise<() => Promise<void>> {
  let wait = 50;
  for (;;) {
    let taken: boolean;
    try {
      taken = tryLock(file, staleMs, tokenDir);
    } catch (e) {
      throw wrap(e);
    }
    if (taken) return async () => unlock(file);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(500, wait * 1.5);
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
