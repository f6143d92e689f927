// SLURM executor: each ready task runs as an element of a job array (one array per wave of
// same-stage tasks) against the same store on a shared filesystem; the job writes the record.
// The submitting process only plans, submits, polls and displays. It never submits a job with a
// SLURM dependency (an `afterok` dependent of a failed job stays PENDING forever): a task is
// submitted once its inputs exist. A manifest per task key (`slurm/tasks/<key>.json`: job id and
// log) lets a rerun adopt jobs still queued or running instead of submitting duplicates.
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, watch, type FSWatcher } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessPromise, Shell } from 'zx/core';
import type { BatchElement, JobProgress } from './batch-job.ts';
import { nodeEntry } from '../../compiled.ts';
import { fromWire, InterruptedError } from '../../errors.ts';
import { retrying } from '../../retry.ts';
import type { Executor, ExecJob, ExecResult } from '../../executor.ts';
import type { TaskEvents } from '../../pool.ts';
import { commandMissing, shell, shQuote } from '../../shell.ts';
import type { Store } from '../../store.ts';
import type { StageResources } from '../../types.ts';

const MAX_ARRAY = 1000;
/** Attempts of one SLURM command when its failure looks transient, and the first wait between them. */
const ATTEMPTS = 4;
const BACKOFF_MS = 500;
/** Default seconds between queue polls: one squeue a second is gentle on a controller. */
export const DEFAULT_POLL_MS = 1000;

// What a busy or restarting controller answers; anything else (bad option, invalid account) is final.
const TRANSIENT = /timed out|time out|slurm_load_jobs error|unable to contact slurm controller|connection refused|resource temporarily unavailable|zero bytes were transmitted|try again|slurm_receive_msg|socket|controller is busy|slurmctld is not responding/i;

/** A failed SLURM command: zx's ProcessOutput (exit code, stderr), or an error of our own. */
type SlurmError = Error & { stderr?: string; exitCode?: number | null };

/** True for a SLURM client failure worth retrying (not a missing binary, not a rejected request). */
export function transientSlurmError(e: unknown): boolean {
  const err = e as SlurmError;
  if (commandMissing(err)) return false;
  return TRANSIENT.test(`${err.stderr ?? ''}\n${err.message}`);
}

/**
 * One SLURM client command (`cmd` builds it on zx's `$`, which quotes each value as one argument),
 * retried with backoff (0.5, 1, 2 s) while it fails transiently (retry.ts). `recover` runs before
 * each retry: a command whose reply was lost may have taken effect. The command runs again only once
 * `recover` said it did not; a recovery that cannot tell (squeue failing too) is an error, retried
 * like the command, never "not submitted": guessing would submit a second copy nobody tracks or
 * cancels. A final failure rejects with zx's ProcessOutput (exit code, stderr).
 */
export async function slurmCmd(cmd: ($: Shell) => ProcessPromise, o: { recover?: () => Promise<string | undefined> } = {}): Promise<{ stdout: string }> {
  const $ = await shell();
  return retrying(
    async (n) => {
      const done = n > 1 ? await o.recover?.() : undefined;
      return done !== undefined ? { stdout: done } : await cmd($);
    },
    { retries: ATTEMPTS - 1, baseDelayMs: BACKOFF_MS, retryable: transientSlurmError },
  );
}

// The compiled batch job when this process runs compiled code (the same build), else the source through tsx.
const BATCH_JOB = nodeEntry(fileURLToPath(new URL('./batch-job.ts', import.meta.url)));

export interface SlurmOptions {
  partition?: string;
  account?: string;
  /** sbatch --time, e.g. '02:00:00' (default: the stage's declared time, else the partition's) */
  time?: string;
  /** sbatch --gres, e.g. 'gpu:1' (default: gpu:N when the stage asks for N GPUs) */
  gres?: string;
  /** sbatch --mem, e.g. '8G' */
  mem?: string;
  /** extra sbatch arguments, passed as given */
  extra: string[];
  /** milliseconds between queue polls (default DEFAULT_POLL_MS) */
  pollMs?: number;
  /** name prefix of submitted jobs; also the command named in messages */
  jobName: string;
  /** say why a queue poll failed (it is retried either way) */
  debug?: boolean;
}

interface Manifest {
  jobId: string;
  log: string;
  submittedAt: string;
}

interface InFlight {
  job: ExecJob;
  events: TaskEvents;
  jobId: string;
  log: string;
  progressFile: string;
  resolve(r: ExecResult): void;
  reject(e: Error): void;
  /** When it was handed to SLURM: a queue snapshot taken before that cannot judge it. */
  trackedAt: number;
  /** Polls left to wait for the record of a job SLURM calls COMPLETED (shared filesystems lag). */
  grace: number;
}

interface QueueEntry {
  state: string;
  reason: string;
  node: string;
}

/** sbatch arguments for one stage's resources under the run's options. */
export function sbatchResourceArgs(r: StageResources, o: SlurmOptions): string[] {
  const args: string[] = [];
  if (o.partition) args.push(`--partition=${o.partition}`);
  if (o.account) args.push(`--account=${o.account}`);
  const time = o.time ?? (r.timeMinutes ? `${r.timeMinutes}` : undefined);
  if (time) args.push(`--time=${time}`);
  const gres = o.gres ?? (r.gpus ? `gpu:${r.gpus}` : undefined);
  if (gres) args.push(`--gres=${gres}`);
  const mem = o.mem ?? (r.memMB ? `${r.memMB}M` : undefined);
  if (mem) args.push(`--mem=${mem}`);
  args.push(`--cpus-per-task=${r.cpus ?? 1}`);
  return [...args, ...o.extra];
}

export class SlurmExecutor implements Executor {
  readonly writesRecords = true;
  private readonly waiting: { job: ExecJob; events: TaskEvents; resolve(r: ExecResult): void; reject(e: Error): void }[] = [];
  private readonly inFlight = new Map<string, InFlight>();
  private flushTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;
  private watcher: FSWatcher | undefined;
  private readonly dir: string;

  constructor(
    private readonly store: Store,
    private readonly projectModule: string,
    private readonly opts: SlurmOptions,
    private readonly resourcesOf: (job: ExecJob) => StageResources,
  ) {
    this.dir = store.area('slurm');
    for (const d of ['tasks', 'logs', 'batches', 'progress']) mkdirSync(path.join(this.dir, d), { recursive: true });
  }

  run(job: ExecJob, events: TaskEvents): Promise<ExecResult> {
    if (this.closed) return Promise.reject(new InterruptedError());
    return new Promise((resolve, reject) => {
      this.waiting.push({ job, events, resolve, reject });
      // Tasks that become ready together go out as one array.
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, 100);
    });
  }

  private manifestPath(key: string): string {
    return path.join(this.dir, 'tasks', `${key}.json`);
  }

  /** The job that ran (or runs) this task, with its log: for `show`. */
  static manifestOf(store: Store, key: string): Manifest | undefined {
    try {
      return JSON.parse(readFileSync(path.join(store.area('slurm'), 'tasks', `${key}.json`), 'utf8')) as Manifest;
    } catch {
      return undefined;
    }
  }

  private async flush(): Promise<void> {
    const batch = this.waiting.splice(0);
    if (!batch.length) return;
    try {
      // Only a task some run submitted before can have a job to adopt: no squeue call otherwise.
      const manifests = batch.map((w) => (w.job.force ? undefined : SlurmExecutor.manifestOf(this.store, w.job.task.key)));
      const queue = manifests.some(Boolean) ? await squeue() : new Map<string, QueueEntry>();
      const fresh: typeof batch = [];
      for (const [i, w] of batch.entries()) {
        const m = manifests[i];
        if (m && queue.has(m.jobId)) {
          w.events.log(`[slurm] adopted SLURM job ${m.jobId} (${queue.get(m.jobId)!.state}), submitted ${m.submittedAt}; log ${m.log}`);
          this.track(w, m.jobId, m.log);
        } else fresh.push(w);
      }
      const byStage = new Map<string, typeof batch>();
      for (const w of fresh) {
        const k = `${w.job.stage.name}\u0000${JSON.stringify(this.resourcesOf(w.job))}`;
        byStage.set(k, [...(byStage.get(k) ?? []), w]);
      }
      // SLURM's default MaxArraySize is 1001: arrays of at most 1000 elements.
      for (const group of byStage.values()) for (let i = 0; i < group.length; i += MAX_ARRAY) await this.submitArray(group.slice(i, i + MAX_ARRAY));
    } catch (e) {
      for (const w of batch) if (![...this.inFlight.values()].some((f) => f.job === w.job)) w.reject(e as Error);
    }
    this.ensurePolling();
  }

  /**
   * Records appear by rename into `tasks/`: where the filesystem reports that (a local one; NFS
   * across hosts does not), a finished job is noticed at once instead of at the next poll.
   */
  private watchRecords(): void {
    if (this.watcher || this.closed) return;
    try {
      this.watcher = watch(path.dirname(this.store.records.where('0'.repeat(64))), (_event, name) => {
        const key = /^([0-9a-f]{64})\.json$/.exec(String(name ?? ''))?.[1];
        if (key && this.inFlight.has(key)) void this.takeRecord(key, true);
      });
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      this.watcher = undefined; // the poll still finds every record
    }
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /**
   * Resolves the task when a usable record is there; false otherwise. `ownOnly`: only a record its
   * own job wrote (one another run wrote leaves the job queued; it is awaited until it has left).
   */
  private async takeRecord(key: string, ownOnly = false): Promise<boolean> {
    const f = this.inFlight.get(key);
    if (!f) return false;
    const found = await this.store.lookup(key);
    const record = found.hit ? found.record : undefined;
    const own = record?.executor?.jobId === f.jobId;
    if (!record || ((ownOnly || f.job.force) && !own) || this.inFlight.get(key) !== f) return false;
    this.inFlight.delete(key);
    // A record its job did not write: another run (local, say) computed the task; the job found it and did nothing.
    f.resolve({ kind: 'record', record, ...(own ? {} : { reused: true }) });
    return true;
  }

  private track(w: (typeof this.waiting)[number], jobId: string, log: string): void {
    this.watchRecords();
    this.inFlight.set(w.job.task.key, { ...w, jobId, log, progressFile: path.join(this.dir, 'progress', `${w.job.task.key}.json`), trackedAt: Date.now(), grace: 20 });
  }

  private async submitArray(group: typeof this.waiting): Promise<void> {
    const stage = group[0]!.job.stage;
    const batchDir = path.join(this.dir, 'batches', `${Date.now()}-${randomBytes(4).toString('hex')}`);
    mkdirSync(batchDir, { recursive: true });
    const logs = path.join(this.dir, 'logs');
    group.forEach((w, i) => {
      const el: BatchElement = {
        projectModule: this.projectModule,
        command: this.opts.jobName,
        storeDir: this.store.dir,
        task: w.job.task,
        template: w.job.template,
        force: w.job.force,
        progressFile: path.join(this.dir, 'progress', `${w.job.task.key}.json`),
      };
      writeFileSync(path.join(batchDir, `${i}.json`), JSON.stringify(el));
    });
    const script = path.join(batchDir, 'job.sh');
    // The script is /bin/sh: POSIX quoting (shQuote), so a store path with spaces, quotes or `$` stays one word.
    writeFileSync(script, `#!/bin/sh\nexec ${[process.execPath, ...BATCH_JOB.execArgv.map((a) => (a.startsWith('file:') ? fileURLToPath(a) : a)), BATCH_JOB.file, batchDir].map(shQuote).join(' ')}\n`, { mode: 0o755 });
    // The tag finds the array again when sbatch's reply is lost (a timeout after the controller
    // accepted it), so a retry never submits it twice.
    const tag = `${this.opts.jobName}:${path.basename(batchDir)}`;
    const args = [
      '--parsable',
      `--array=0-${group.length - 1}`,
      `--comment=${tag}`,
      `--job-name=${this.opts.jobName}-${stage.name}`,
      `--output=${path.join(logs, '%A_%a.log')}`,
      `--chdir=${this.store.dir}`,
      ...sbatchResourceArgs(this.resourcesOf(group[0]!.job), this.opts),
      script,
    ];
    const { stdout } = await slurmCmd(($) => $`sbatch ${args}`, { recover: () => submittedWithTag(tag) }).catch((e: SlurmError) => {
      throw new Error(`sbatch failed: ${(e.stderr ?? e.message).trim()}`);
    });
    const arrayId = stdout.trim().split(';')[0]!;
    // For gc: a batch folder is needed while its array is queued.
    writeFileSync(path.join(batchDir, 'array'), `${arrayId}\n`);
    if (this.closed) {
      // Ctrl-C came while sbatch ran: take the array back out of the queue.
      await slurmCmd(($) => $`scancel ${arrayId}`).catch(() => undefined);
      for (const w of group) w.reject(new InterruptedError());
      return;
    }
    const submittedAt = new Date().toISOString();
    group.forEach((w, i) => {
      const jobId = `${arrayId}_${i}`;
      const log = path.join(logs, `${arrayId}_${i}.log`);
      const m: Manifest = { jobId, log, submittedAt };
      const p = this.manifestPath(w.job.task.key);
      writeFileSync(`${p}.tmp`, JSON.stringify(m));
      renameSync(`${p}.tmp`, p);
      w.events.log(`[slurm] submitted as SLURM job ${jobId}; log ${log}`);
      this.track(w, jobId, log);
    });
  }

  private ensurePolling(): void {
    if (this.pollTimer || this.closed) return;
    this.pollTimer = setInterval(() => void this.poll(), this.opts.pollMs ?? DEFAULT_POLL_MS);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (!this.inFlight.size) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
        this.stopWatching();
        return;
      }
      const snapshotAt = Date.now();
      const queue = await squeue();
      for (const [key, f] of this.inFlight) {
        if (f.trackedAt >= snapshotAt) continue; // submitted after the snapshot began
        const q = queue.get(f.jobId);
        if (q) {
          const where = q.state === 'RUNNING' ? `RUNNING on ${q.node}` : `${q.state}${q.reason && q.reason !== 'None' ? ` (${q.reason})` : ''}`;
          const own = readProgress(f.progressFile);
          const p = own?.jobId === f.jobId ? own : undefined;
          f.events.progress(p?.done ?? 0, p?.total ?? 0, `${where}${p?.message ? `: ${p.message}` : ''}`);
          continue;
        }
        if ((await this.takeRecord(key)) || this.inFlight.get(key) !== f) continue;
        const state = await jobState(f.jobId);
        if (state && /^(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED)/.test(state.state)) continue;
        if (state?.state === 'COMPLETED' && f.grace-- > 0) continue; // the record may still be on its way
        if (this.inFlight.get(key) !== f) continue;
        this.inFlight.delete(key);
        const own = readProgress(f.progressFile);
        const err = own?.jobId === f.jobId ? own.error : undefined;
        // The job's own error, when it could write one, keeps its class and code and stands in
        // for the log's tail (whose last lines may be only its stack).
        f.reject(err ? fromWire({ ...err, message: await failureReport(f.jobId, f.log, state, err.message) }) : new Error(await failureReport(f.jobId, f.log, state)));
      }
    } catch (e) {
      // squeue failing (controller restarting) is retried at the next poll.
      if (this.opts.debug) process.stderr.write(`slurm poll: ${(e as Error).message}\n`);
    } finally {
      this.polling = false;
    }
  }

  /** Ctrl-C: cancel this run's jobs and wait until the queue no longer holds them. */
  async kill(): Promise<void> {
    this.closed = true;
    clearTimeout(this.flushTimer);
    for (const w of this.waiting.splice(0)) w.reject(new InterruptedError());
    const ids = [...this.inFlight.values()].map((f) => f.jobId);
    if (ids.length) {
      await slurmCmd(($) => $`scancel ${ids}`).catch(() => undefined);
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const q = await squeue().catch(() => new Map<string, QueueEntry>());
        if (!ids.some((id) => q.has(id))) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.stopWatching();
    for (const f of this.inFlight.values()) f.reject(new InterruptedError());
    this.inFlight.clear();
  }

  close(): void {
    this.closed = true;
    this.stopWatching();
    clearInterval(this.pollTimer);
    clearTimeout(this.flushTimer);
  }
}

/** Once, before a run: a controller must answer, or every task would fail with the same error. */
export async function checkSlurm(): Promise<string | undefined> {
  try {
    await squeue();
    return undefined;
  } catch (e) {
    const err = e as SlurmError;
    const why = commandMissing(err) ? 'squeue is not installed here' : (err.stderr ?? err.message).trim().split('\n').at(-1);
    return `--executor slurm: no SLURM controller answers (${why}); run on a submit host of the cluster, or use --executor local`;
  }
}

/**
 * Ids of every user's queued or running jobs (elements and arrays), or undefined when no
 * controller answers. Every user's: a store shared by several users holds their jobs' files too,
 * and job ids are unique on the cluster.
 */
export async function queuedJobIds(): Promise<Set<string> | undefined> {
  try {
    const { stdout } = await slurmCmd(($) => $`squeue -h -r -o ${'%i|%F'}`);
    return new Set(stdout.split('\n').flatMap((l) => l.trim().split('|')).filter(Boolean));
  } catch {
    return undefined;
  }
}

/** The array id of this user's queued job whose comment is `tag`, if any. */
async function submittedWithTag(tag: string): Promise<string | undefined> {
  const { stdout } = await slurmCmd(($) => $`squeue --me -h -o ${'%F|%k'}`);
  for (const line of stdout.split('\n')) {
    const [id, comment] = line.trim().split('|');
    if (id && comment === tag) return id;
  }
  return undefined;
}

/** Every pending or running job element, one per line (arrays expanded). */
async function squeue(): Promise<Map<string, QueueEntry>> {
  // The format is a value, so zx quotes it: written into the command, its `|` would be a shell pipe.
  const { stdout } = await slurmCmd(($) => $`squeue --me -h -r -o ${'%i|%T|%r|%N'}`);
  const out = new Map<string, QueueEntry>();
  for (const line of stdout.split('\n')) {
    const [id, state, reason, node] = line.trim().split('|');
    if (id) out.set(id, { state: state ?? '', reason: reason ?? '', node: node ?? '' });
  }
  return out;
}

function readProgress(file: string): Partial<JobProgress> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<JobProgress>;
  } catch {
    return undefined;
  }
}

interface JobState {
  state: string;
  exit: string;
  reason: string;
}

/** The controller's word on a job (kept MinJobAge seconds after it ends), or undefined. */
async function jobState(jobId: string): Promise<JobState | undefined> {
  // A job the controller has forgotten is "Invalid job id specified", exit 1: expected, no state.
  const stdout = await slurmCmd(($) => $`scontrol show job -o ${jobId}`).then((r) => r.stdout, () => undefined);
  if (stdout === undefined) return undefined;
  const field = (k: string): string => stdout.match(new RegExp(`\\b${k}=(\\S+)`))?.[1] ?? '';
  return { state: field('JobState') || 'UNKNOWN', exit: field('ExitCode') || '?', reason: field('Reason') };
}

/** `SLURM job 12_3 FAILED (exit 1:0); log <path>:` and the job's own error, else the log's last lines. */
async function failureReport(jobId: string, log: string, s: JobState | undefined, own?: string): Promise<string> {
  const state = s ? `${s.state} (exit ${s.exit}${s.reason && s.reason !== 'None' ? `, ${s.reason}` : ''})` : 'ended without writing a record';
  if (own) return `SLURM job ${jobId} ${state}; log ${log}: ${own}`;
  const tail = existsSync(log)
    ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-8).map((l) => `    ${l}`).join('\n')
    : `    (no log at ${log}: is the store on a filesystem the compute nodes share, at the same path?)`;
  return `SLURM job ${jobId} ${state}; log ${log}:\n${tail}`;
}
