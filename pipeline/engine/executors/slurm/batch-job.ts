// One batch job (a SLURM array element): runs one task against the shared store, writing the
// record exactly as a local run does (per-key lock, temp file, fsync, rename). Usage:
//   node --import tsx batch-job.ts <batch dir>     (element $SLURM_ARRAY_TASK_ID, default 0)
// Killed (scancel, preemption, time limit) it leaves no record; the next run recomputes the task.
import { writeFileSync, renameSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeError, toWire, type WireError } from '../../errors.ts';
import { canonicalJson, codeFingerprint } from '../../fingerprint.ts';
import { completeRecord, type RecordTemplate } from '../../planner.ts';
import type { TaskAssignment } from '../../protocol.ts';
import { RunLease } from '../../gc-lease.ts';
import { measureTask } from '../../resources.ts';
import { loadProject, runTask, stageOf } from '../../run-task.ts';
import { Store } from '../../store.ts';
import { TaskLog } from '../../task-log.ts';
import type { JsonObject, StageDecl } from '../../types.ts';

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

// The task runs in this process (the job is its isolation; a worker process would cost a second
// Node start per task). scancel, preemption and the time limit send SIGTERM: the task's signal
// fires and the job exits before any record is written. A task that computes synchronously
// past SLURM's KillWait is SIGKILLed, which leaves no record either.
// The key lock's and the lease's heartbeats are timers of this event loop: a task must give the loop a
// turn between its steps (the training and correlation loops do, stages/model/yield.ts), or they go
// stale and a concurrent run on the same store, or gc, could take the key or the lease over.
const abort = new AbortController();
process.on('SIGTERM', () => {
  abort.abort();
  process.stderr.write('batch job: SIGTERM (cancelled, preempted or out of time): no record written\n');
  process.exit(143);
});

/**
 * The code on the shared filesystem must still be the code the key was computed from: a job
 * that started after the checkout was edited would otherwise file new code's results under the
 * old key.
 */
async function checkCode(stage: StageDecl, root: string, t: RecordTemplate, command: string): Promise<void> {
  const entry = stage.module.startsWith('file:') ? stage.module : path.resolve(root, stage.module);
  const now = await codeFingerprint(entry, root, stage.files);
  const before = t.files ?? {};
  const changed = [
    ...(now.code !== t.code ? ['its code'] : []),
    ...[...new Set([...Object.keys(before), ...Object.keys(now.files)])].filter((f) => before[f] !== now.files[f]).map((f) => `file ${f}`),
  ];
  if (changed.length)
    throw new Error(`stage '${stage.name}': ${changed.join(', ')} changed in ${root} since this run was planned, so this job would run code its key does not describe; nothing was computed. Rerun the ${command} command to plan with the current code`);
}

/** The runtime this node provides must be the one in the key (e.g. the backend asked for on the submit host). */
async function checkRuntime(stage: StageDecl, t: RecordTemplate): Promise<void> {
  if (!stage.runtime) return;
  let actual: JsonObject;
  try {
    actual = await stage.runtime('local');
  } catch (e) {
    throw new Error(`stage '${stage.name}': node ${os.hostname()} cannot provide the runtime its key was computed for (${canonicalJson(t.runtime)}): ${e instanceof Error ? e.message : String(e)}`);
  }
  const diff = [...new Set([...Object.keys(t.runtime), ...Object.keys(actual)])]
    .filter((k) => canonicalJson(t.runtime[k] ?? null) !== canonicalJson(actual[k] ?? null))
    .map((k) => `${k}: requested ${t.runtime[k] === undefined ? '(unset)' : canonicalJson(t.runtime[k])}, actual ${actual[k] === undefined ? '(unset)' : canonicalJson(actual[k])}`);
  if (diff.length)
    throw new Error(`stage '${stage.name}': node ${os.hostname()} does not provide the runtime the task's key was computed for (${diff.join('; ')}); nothing was computed`);
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: batch-job.ts <batch dir>');
  const index = process.env.SLURM_ARRAY_TASK_ID ?? '0';
  const el = JSON.parse(readFileSync(path.join(dir, `${index}.json`), 'utf8')) as BatchElement;
  const jobId = process.env.SLURM_ARRAY_JOB_ID ? `${process.env.SLURM_ARRAY_JOB_ID}_${index}` : (process.env.SLURM_JOB_ID ?? `local-${process.pid}`);
  const store = new Store(el.storeDir, { command: el.command });
  const { key, id } = el.task;
  console.log(`${id}: job ${jobId} on ${os.hostname()}, key ${key}`);
  let at = { done: 0, total: 0, message: null as string | null };
  const failed = (e: unknown): never => {
    writeProgress(el.progressFile, { jobId, ...at, error: toWire(e) });
    throw e;
  };
  const project = await loadProject(el.projectModule).catch(failed);
  const stage = stageOf(project, el.task.stage, el.projectModule);
  await Promise.all([checkCode(stage, project.root, el.template, el.command), checkRuntime(stage, el.template)]).catch(failed);
  // Like a run: a lease keeps gc from sweeping this job's fresh blobs before its record exists.
  const lease = await RunLease.take(store);
  const release = await store.lock(key);
  try {
    if (!el.force && (await store.lookup(key)).hit) {
      console.log(`${id}: another run computed it already; nothing to do`);
      return;
    }
    const started = Date.now();
    const epoch = await lease.ensure();
    const logs: string[] = [];
    // The store's log of the task (logs/<key>.log), as a local run writes it; this job's own log
    // (its stdout and stderr) stays in slurm/logs/.
    const taskLog = new TaskLog({ id, stage: stage.name, key });
    let last = 0;
    // Only the task: loading the project and checking its code are this job's, not the task's.
    const used = measureTask();
    const outputs = await runTask(
      stage,
      el.task,
      store,
      {
        progress(done, total, message) {
          at = { done, total, message: message ?? null };
          const now = Date.now();
          if (now - last < 1000 && done < total) return;
          last = now;
          writeProgress(el.progressFile, { jobId, ...at });
        },
        log(message) {
          logs.push(message);
          taskLog.add(message);
          console.log(`${id}: ${message}`);
        },
      },
      abort.signal,
    ).catch(async (e: unknown) => {
      if (!abort.signal.aborted) await taskLog.write(store, { ok: false, error: describeError(e) }).catch(() => {});
      return failed(e);
    });
    const resources = used();
    const log = path.join(store.area('slurm'), 'logs', `${jobId}.log`);
    // A lease gc judged stale while this job was stopped: the outputs count only if still intact.
    const intact = async (): Promise<void> => {
      if ((await lease.ensure()) === epoch) return;
      for (const o of Object.values(outputs))
        if ((await store.blobs.verify(o.hash, true)) !== 'ok') throw new Error(`gc removed this task's output blob ${o.hash} while the job had lost its gc lease; rerun to recompute it`);
    };
    await intact().catch(failed);
    const record = completeRecord(el.template, outputs, started, logs, { executor: { kind: 'slurm', jobId, log, node: os.hostname() }, resources });
    await taskLog.write(store, { ok: true, resources }).catch(failed);
    await store.records.write(record);
    await intact().catch(async (e: unknown) => {
      await store.records.delete(key);
      failed(e);
    });
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
