// One batch job (a SLURM array element): runs one task against the shared store, writing the
// record exactly as a local run does (per-key lock, temp file, fsync, rename). Usage:
//   node --import tsx batch-job.ts <batch dir>     (element $SLURM_ARRAY_TASK_ID, default 0)
// Killed (scancel, preemption, time limit) it leaves no record; the next run recomputes the task.
import { writeFileSync, renameSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toWire, type WireError } from './errors.ts';
import { completeRecord, type RecordTemplate } from './planner.ts';
import type { TaskAssignment } from './protocol.ts';
import { RunLease } from './gc-lease.ts';
import { WorkerPool } from './pool.ts';
import { Store } from './store.ts';
import { usableRecord } from './usable-record.ts';

export interface BatchElement {
  projectModule: string;
  /** The project's command, named in messages. */
  command: string;
  storeDir: string;
  task: TaskAssignment;
  template: RecordTemplate;
  force: boolean;
  /** Where the job reports progress for the submitting process's display. */
  progressFile: string;
}

/** The progress file's content; `error` is set when the task failed, for the submitter to rebuild. */
export interface JobProgress {
  jobId: string;
  done: number;
  total: number;
  message: string | null;
  error?: WireError;
}

function writeProgress(file: string, p: JobProgress): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(p));
  renameSync(tmp, file);
}

let pool: WorkerPool | undefined;
process.on('SIGTERM', () => {
  pool?.kill();
  process.stderr.write('batch job: SIGTERM (cancelled, preempted or out of time): no record written\n');
  process.exit(143);
});

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: batch-job.ts <batch dir>');
  const index = process.env.SLURM_ARRAY_TASK_ID ?? '0';
  const el = JSON.parse(readFileSync(path.join(dir, `${index}.json`), 'utf8')) as BatchElement;
  const jobId = process.env.SLURM_ARRAY_JOB_ID ? `${process.env.SLURM_ARRAY_JOB_ID}_${index}` : (process.env.SLURM_JOB_ID ?? `local-${process.pid}`);
  const store = new Store(el.storeDir, { command: el.command });
  const { key, id } = el.task;
  console.log(`${id}: job ${jobId} on ${os.hostname()}, key ${key}`);
  // Like a run: a lease keeps gc from sweeping this job's fresh blobs before its record exists.
  const lease = await RunLease.take(store);
  const release = await store.lock(key);
  try {
    if (!el.force && (await usableRecord(store, key))) {
      console.log(`${id}: another run computed it already; nothing to do`);
      return;
    }
    const started = Date.now();
    const logs: string[] = [];
    let last = 0;
    // The task computes in a worker process, so this one stays free to refresh the key's lock and
    // the lease and to answer SIGTERM while a long synchronous training loop runs.
    pool = new WorkerPool(1, el.projectModule, el.storeDir);
    let at = { done: 0, total: 0, message: null as string | null };
    const outputs = await pool.run(el.task, {
      progress(done, total, message) {
        at = { done, total, message: message ?? null };
        const now = Date.now();
        if (now - last < 1000 && done < total) return;
        last = now;
        writeProgress(el.progressFile, { jobId, ...at });
      },
      log(message) {
        logs.push(message);
        console.log(`${id}: ${message}`);
      },
    }).catch((e: unknown) => {
      writeProgress(el.progressFile, { jobId, ...at, error: toWire(e) });
      throw e;
    });
    pool.close();
    const log = path.join(store.area('slurm'), 'logs', `${jobId}.log`);
    await store.records.write(completeRecord(el.template, outputs, started, logs, { kind: 'slurm', jobId, log, node: os.hostname() }));
    console.log(`${id}: done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  } finally {
    await release();
    await lease.release();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`batch job failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
