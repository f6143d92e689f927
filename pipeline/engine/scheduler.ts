// Runs the stale tasks of a selection: keys resolved as inputs become known (early cutoff),
// cache hits taken, the rest executed in worker processes under per-key locks. A failing task
// fails only its dependents; Ctrl-C stops the workers and keeps every finished record.
// Ready tasks are considered (keyed, looked up) a slice at a time, yielding to the event loop
// between slices, so Ctrl-C and SIGTERM act within a second however large the grid; a full
// store stops new tasks at once; a lost gc lease is re-taken before anything is recorded.
import { withUpstream, type TaskNode } from './graph.ts';
import { readOutputs, type Planner, type Resolved } from './planner.ts';
import { LocalExecutor, type Executor } from './executor.ts';
import type { Reporter } from './reporter.ts';
import type { Lookup, OutputEntry, RecordSummary, TaskRecord } from './store.ts';
import { summarize } from './record.ts';
import type { InputTask, LineageEntry, StageDecl } from './types.ts';
import { publishOutputs } from './publish.ts';
import { RunLease } from './gc-lease.ts';
import { describeError, InputError, InterruptedError, isInterrupted, isStoreFull } from './errors.ts';
import { ReadyQueue } from './ready-queue.ts';

/** How long the scheduler works between yields to the event loop (signals, heartbeats, display). */
const SLICE_MS = 20;
/** Ready tasks keyed and looked up at once (those that must wait: a record to read, a blob to hash). */
const CONSIDER_AT_ONCE = 16;
/**
 * A stage whose last SHORT_SEEN tasks each took at most SHORT_TASK_MS: its tasks are small, and
 * an executor that can (executor.queues) gets several per job at once, which wait where they will
 * run. On tasks of a few milliseconds, the parent's round trip per task (a message, a wake-up) is
 * most of its work; a few waiting in a worker let it hand over and hear back several in one message.
 * A stage with a longer task is handed over one task per job.
 */
const SHORT_TASK_MS = 20;
const SHORT_SEEN = 4;
/** Yields to the event loop: pending signals, timers and I/O run before the next slice. */
export const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export type FinalState = 'executed' | 'cached' | 'failed' | 'skipped' | 'interrupted';

export interface TaskResult {
  id: string;
  stage: string;
  state: FinalState;
  key?: string;
  durationMs?: number;
  error?: string;
  /** A user-fixable input error's code (e.g. a download's CHECKSUM_MISMATCH). */
  code?: string;
}

export interface RunSummary {
  experiment: string;
  executed: number;
  cached: number;
  failed: number;
  skipped: number;
  interrupted: number;
  durationMs: number;
  warnings: string[];
  /** Absolute paths of the artifacts this run published (built or reused), e.g. the report. */
  published: string[];
  /** Set when the store ran out of space: the first such error, told once (no task started after it). */
  storeFull?: string;
  tasks: TaskResult[];
}

export interface RunOptions {
  jobs: number;
  /** Stages whose tasks execute even when a valid record exists. */
  force: Set<string>;
  reporter: Reporter;
  /** Aborting stops scheduling and kills running workers. */
  signal?: AbortSignal;
  /** Where tasks run (default: `jobs` local worker processes). */
  executor?: Executor;
  /**
   * Every cached task's record and blobs checked against their files (stat signatures; a
   * changed file read and hashed again) before it is reused, as `lookupIndexed` does. Without
   * it a task is reused from the index (its record file's stat signature unchanged) and the
   * listing of objects/, and bytes are checked where they are used: a task's inputs before it
   * runs, a published output.
   */
  verify?: boolean;
}

function lineageOf(r: RecordSummary, ranThisRun: boolean): LineageEntry {
  return { id: r.id, stage: r.stage, startedAt: r.startedAt, endedAt: r.endedAt, durationMs: r.durationMs, host: r.host, ranThisRun };
}

export async function runTasks(planner: Planner, tasks: TaskNode[], opts: RunOptions): Promise<RunSummary> {
  const began = Date.now();
  const selected = new Set(tasks);
  const outputs = new Map<TaskNode, Record<string, OutputEntry>>();
  const results = new Map<TaskNode, TaskResult>();
  const waiting = new Map<TaskNode, number>();
  const queue = new ReadyQueue<{ task: TaskNode; resolved: Resolved }>();
  /** Tasks whose inputs are known, waiting to be keyed and looked up (FIFO, from `head`). */
  const pending: TaskNode[] = [];
  let head = 0;
  let considering = 0;
  let storeFull: string | undefined;
  const pool: Executor = opts.executor ?? new LocalExecutor(opts.jobs, planner.project.module, planner.store.dir);
  const { reporter } = opts;
  const executing = new Set<TaskNode>();
  /**
   * Finished tasks' records (summaries), for the lineage of tasks that want it; `ranHere`:
   * computed by this run. A task cached from the index is not kept here: lineage reads its
   * summary back from the index (holding 100,000 of them costs a no-op in garbage collection).
   */
  const timings = new Map<TaskNode, RecordSummary>();
  const ranHere = new Set<TaskNode>();
  /** Per stage, how long its last SHORT_SEEN tasks that ran here took (ms). */
  const lastDurations = new Map<StageDecl, number[]>();
  const isShort = (s: StageDecl): boolean => {
    const d = lastDurations.get(s);
    return d !== undefined && d.length === SHORT_SEEN && d.every((ms) => ms <= SHORT_TASK_MS);
  };
  const noteDuration = (s: StageDecl, ms: number): void => {
    let d = lastDurations.get(s);
    if (!d) lastDurations.set(s, (d = []));
    if (d.push(ms) > SHORT_SEEN) d.shift();
  };
  /** Whether a stage publishes an output: its cached tasks copy it into place, which takes waiting. */
  const publishing = new Map<StageDecl, boolean>();
  const publishes = (s: StageDecl): boolean => {
    let p = publishing.get(s);
    if (p === undefined) publishing.set(s, (p = Object.values(s.outputs).some((o) => o.publish)));
    return p;
  };
  const outputsOf = (dep: TaskNode): Record<string, OutputEntry> => outputs.get(dep)!;
  /** Set while a pump settles tasks synchronously: a task made ready meanwhile is the pump's to take. */
  let stepping = false;
  const order = new Map(tasks.map((t, i) => [t, i]));
  const published = new Set<string>();
  let active = 0;
  let interrupted = false;

  await planner.store.init();
  // Code fingerprints and runtimes first, so every task is keyed without waiting (planner.resolveNow).
  await planner.prepare(new Set(tasks.map((t) => t.stage)));
  // Held until the run ends: gc sweeps nothing while it exists (gc-lease.ts says why).
  const lease = await RunLease.take(planner.store);
  reporter.start(tasks.map((t) => t.id), opts.jobs);
  // Index lines and verified blobs are written in batches: losing one costs a full read later, never a result.
  const flush = (): void => {
    try {
      planner.store.flush();
    } catch (e) {
      reporter.warn(`cannot write the store's index: ${describeError(e)}`);
    }
  };
  const flushTimer = setInterval(flush, 1000);
  flushTimer.unref();
  // Diagnostics (bad records, corrupt blobs) reach the display as they are found.
  const unsubscribe = planner.diagnostics.subscribe((m) => reporter.warn(m));

  const summary = await new Promise<RunSummary>((resolveRun) => {
    const finishIfDone = (): void => {
      if (results.size < tasks.length) return;
      pool.close();
      unsubscribe();
      reporter.stop();
      const list = tasks.map((t) => results.get(t)!);
      const count = (s: FinalState): number => list.filter((r) => r.state === s).length;
      resolveRun({
        experiment: planner.experiment,
        executed: count('executed'),
        cached: count('cached'),
        failed: count('failed'),
        skipped: count('skipped'),
        interrupted: count('interrupted'),
        durationMs: Date.now() - began,
        warnings: [...planner.warnings],
        published: [...published].sort(),
        ...(storeFull ? { storeFull } : {}),
        tasks: list,
      });
    };

    const settle = (task: TaskNode, result: TaskResult, outs?: Record<string, OutputEntry>): void => {
      if (results.has(task)) return;
      results.set(task, result);
      const redone = redoing.get(task);
      if (redone && (result.state === 'executed' || result.state === 'cached')) {
        // Run again for a dependent that waits on it: the others have had its outputs already.
        outputs.set(task, outs!);
        redone.settled();
      } else if (result.state === 'executed' || result.state === 'cached') {
        outputs.set(task, outs!);
        for (const d of task.dependents) {
          if (!selected.has(d)) continue;
          const left = waiting.get(d)! - 1;
          waiting.set(d, left);
          if (left === 0 && !interrupted) ready(d);
        }
      } else {
        // Everything downstream of a failure cannot run; the rest of the graph goes on.
        const stack = [...task.dependents];
        while (stack.length) {
          const d = stack.pop()!;
          if (!selected.has(d) || results.has(d)) continue;
          const state: FinalState = result.state === 'interrupted' ? 'interrupted' : 'skipped';
          results.set(d, { id: d.id, stage: d.stage.name, state, error: `upstream ${task.id} ${result.state}` });
          if (state === 'skipped') reporter.taskEnded(d.id, 'skipped', `upstream ${task.id} ${result.state}`);
          for (const x of d.dependents) stack.push(x); // not push(...): 100,000 dependents overflow a call's arguments
        }
        redone?.settled();
      }
      finishIfDone();
    };

    const ready = (task: TaskNode): void => {
      pending.push(task);
      if (!stepping && considering < CONSIDER_AT_ONCE) void pump();
    };

    /**
     * Considers pending tasks one after another, yielding to the event loop every SLICE_MS:
     * 100,000 ready tasks never starve signals or heartbeats. A task settled without waiting (a
     * cache hit from the index) costs no promise; one that must wait is awaited here while further
     * pumps (CONSIDER_AT_ONCE at most) go on with the tasks behind it.
     */
    const pump = async (): Promise<void> => {
      considering++;
      try {
        let sliceStart = Date.now();
        while (!interrupted && head < pending.length) {
          const task = pending[head++]!;
          if (head > 4096 && head * 2 > pending.length) {
            pending.splice(0, head);
            head = 0;
          }
          stepping = true;
          let later: ReturnType<typeof considerNow>;
          try {
            later = considerNow(task);
          } finally {
            stepping = false;
          }
          if (later) {
            // Started first: it queues the task (in topological order) before another pump takes the next one.
            const considered = consider(task, later);
            if (head < pending.length && considering < CONSIDER_AT_ONCE) void pump();
            await considered;
          }
          if (Date.now() - sliceStart >= SLICE_MS) {
            await yieldToLoop();
            sliceStart = Date.now();
          }
        }
      } finally {
        considering--;
      }
    };

    /**
     * What needs no waiting: the task's key and, when the index holds its record with every blob
     * verified, its reuse (a no-op run's every task). Returns what is left to do (the key, and
     * whether the store has no record of it), or undefined when the task is settled.
     */
    const considerNow = (task: TaskNode): { resolved?: Resolved; found?: Lookup<RecordSummary> } | undefined => {
      try {
        if (results.has(task)) return undefined;
        const resolved = planner.resolveNow(task, outputsOf);
        if (!resolved) return {};
        if (opts.force.has(task.stage.name)) return { resolved };
        const found = planner.lookupNow(resolved.key, task.stage, opts.verify);
        if (!found?.hit || publishes(task.stage)) return { resolved, ...(found && !found.hit ? { found } : {}) };
        reuseNow(task, found.record);
      } catch (e) {
        fail(task, e);
      }
      return undefined;
    };

    const consider = async (task: TaskNode, known: { resolved?: Resolved; found?: Lookup<RecordSummary> } = {}): Promise<void> => {
      try {
        let resolved: Resolved;
        for (;;) {
          if (results.has(task)) return;
          resolved = known.resolved ?? (await planner.resolve(task, outputsOf));
          if (interrupted || results.has(task)) return;
          if (!opts.force.has(task.stage.name)) {
            const found = known.found ?? (await planner.lookup(resolved.key, task.id, task.stage));
            if (results.has(task)) return;
            if (found.hit) return await reuse(task, found.record);
          }
          // It runs: its inputs are read, so their bytes are checked now. A producer whose output
          // is gone or corrupt (set aside) runs again first, and this task is keyed again.
          if (await inputsIntact(task)) break;
          known = {};
        }
        if (interrupted || results.has(task)) return;
        if (storeFull) return notStarted(task);
        // Keep the queue in topological order so runs are reproducible and logs read top-down.
        queue.push(order.get(task)!, { task, resolved });
        drain();
      } catch (e) {
        fail(task, e);
      }
    };

    /** The store is full: a task that did not start is skipped (its dependents with it). */
    const notStarted = (task: TaskNode): void => {
      if (results.has(task)) return;
      const why = 'not started: the store is full';
      reporter.taskEnded(task.id, 'skipped', why);
      settle(task, { id: task.id, stage: task.stage.name, state: 'skipped', error: why });
    };

    /** A valid record exists (found up front, or computed by another run while we waited). */
    const reuse = async (task: TaskNode, record: RecordSummary): Promise<void> => {
      if (publishes(task.stage)) for (const p of await publishOutputs(planner, task, record.outputs)) published.add(p);
      timings.set(task, record);
      reuseNow(task, record);
    };

    const reuseNow = (task: TaskNode, record: RecordSummary): void => {
      reporter.taskEnded(task.id, 'cached');
      settle(task, { id: task.id, stage: task.stage.name, state: 'cached', key: record.key }, record.outputs);
    };

    /**
     * Whether every blob `task` reads is on disk with its bytes (a stat against verified.tsv, or
     * hashed). A corrupt one is set aside and a missing or corrupt one is told by name; its
     * producer, cached from the index, then runs again (`redo`) before this returns false.
     */
    const inputsIntact = async (task: TaskNode): Promise<boolean> => {
      const bad = new Set<TaskNode>();
      for (const dep of task.deps) {
        const outs = readOutputs(task, dep, outputs.get(dep)!);
        for (const name in outs) {
          if (!Object.hasOwn(outs, name)) continue;
          if (!(await planner.inputIntact(dep.id, name, outs[name]!.hash))) bad.add(dep);
        }
      }
      if (!bad.size) return true;
      await Promise.all([...bad].map(redo));
      return false;
    };

    /** Cached tasks run again because a task that runs found one of their outputs gone or corrupt. */
    const redoing = new Map<TaskNode, { done: Promise<void>; settled: () => void }>();
    const redo = (task: TaskNode): Promise<void> => {
      const r = redoing.get(task);
      if (r) {
        // Its result is back: it ran again, and its output is still not intact (a third try would loop).
        if (results.has(task)) throw new Error(`${task.id}: its outputs are still missing or corrupt after it ran again`);
        return r.done;
      }
      let settled!: () => void;
      const done = new Promise<void>((resolve) => (settled = resolve));
      redoing.set(task, { done, settled });
      if (results.get(task)?.state !== 'cached') {
        settled();
        return done;
      }
      results.delete(task);
      reporter.taskReopened?.(task.id);
      void consider(task);
      return done;
    };

    const fail = (task: TaskNode, e: unknown, key?: string): void => {
      if (interrupted || isInterrupted(e)) {
        reporter.taskEnded(task.id, 'interrupted');
        settle(task, { id: task.id, stage: task.stage.name, state: 'interrupted', key });
        return;
      }
      let message = describeError(e);
      if (isStoreFull(e)) {
        // Said once: the first task names the store and the cure; no task starts after it.
        if (storeFull) message = 'no space left in the store (see above)';
        else {
          storeFull = `${task.id}: ${message}`;
          while (queue.length) notStarted(queue.shift()!.task);
        }
      }
      reporter.taskEnded(task.id, 'failed', message);
      settle(task, { id: task.id, stage: task.stage.name, state: 'failed', key, error: message, ...(e instanceof InputError ? { code: e.code } : {}) });
    };

    const drain = (): void => {
      if (lease.lost && queue.length) {
        // gc judged our lease stale (this run was stopped, say): take a new one before starting anything.
        void lease.ensure().then(drain, (e: unknown) => {
          // Go on as before leases could be lost: finished tasks are still re-verified before their records.
          reporter.warn(`cannot take the store's gc lease again: ${describeError(e)}`);
          lease.lost = false;
          drain();
        });
        return;
      }
      while (!interrupted && !storeFull && queue.length) {
        const limit = pool.queues && isShort(queue.peek()!.task.stage) ? opts.jobs * pool.queues : opts.jobs;
        if (active >= limit) break;
        const next = queue.shift()!;
        active++;
        void execute(next.task, next.resolved).finally(() => {
          active--;
          drain();
        });
      }
    };

    const execute = async (task: TaskNode, resolved: Resolved): Promise<void> => {
      const { key } = resolved;
      let release: (() => Promise<void>) | undefined;
      executing.add(task);
      try {
        release = await planner.store.lock(key);
        if (interrupted) throw new InterruptedError();
        if (!opts.force.has(task.stage.name)) {
          // Another run may have computed it while we waited for the lock.
          const found = await planner.lookup(key, task.id, task.stage, true);
          if (found.hit) return await reuse(task, found.record);
        }
        const started = Date.now();
        const logs: string[] = [];
        reporter.taskStarted(task.id);
        const assignment = {
          id: task.id, stage: task.stage.name, key, axes: task.axes, params: task.params, inputs: inputsOf(task),
          experiment: planner.experiment, baseExperiment: planner.variant.base, overrides: planner.variant.overrides,
          lineage: task.stage.wantsLineage ? lineageUpstreamOf(task) : [],
        };
        const events = {
          progress: (done: number, total: number, message?: string) => reporter.taskProgress(task.id, done, total, message),
          log: (message: string) => {
            logs.push(message);
            reporter.taskLog(task.id, message);
          },
        };
        const job = { task: assignment, stage: task.stage, template: planner.recordTemplate(task, resolved), force: opts.force.has(task.stage.name), small: isShort(task.stage) };
        if (pool.writesRecords) {
          // The job takes this lock itself (it may outlive this process).
          await release();
          release = undefined;
        }
        let result: Awaited<ReturnType<Executor['run']>>;
        /** The record this run put in place (its summary: the index and lineage keep no inputs), and its file's signature when known. */
        let written: RecordSummary | undefined;
        let writtenSig: string | undefined;
        for (let attempt = 1; ; attempt++) {
          // The lease as the run knows it (re-taken first when a heartbeat found it lost): one lost
          // before the task starts is found by the check after it, as one lost while it runs is,
          // and its outputs are then verified before they count. Not a stat per task here too.
          const epoch = lease.lost ? await lease.ensure() : lease.epoch;
          result = await pool.run(job, events);
          if (result.kind !== 'outputs') break;
          const { committed } = result;
          // Our lease was lost while the task ran (gc judged it stale): its outputs were
          // unprotected, so they count only once found intact under a new lease.
          if (committed) {
            // Written by the worker, under this run's lock of the key: it counts once the lease is
            // found held after it (or its outputs intact), else it is removed and the task runs again.
            if ((await lease.ensure(result.answeredAt)) === epoch || (await outputsIntact(result.outputs))) {
              written = committed.record;
              writtenSig = committed.sig;
              break;
            }
            await planner.store.records.delete(key);
          } else if ((await lease.ensure()) === epoch || (await outputsIntact(result.outputs))) {
            const record = planner.newRecord(task, resolved, result.outputs, started, logs, result.resources);
            await planner.store.records.write(record);
            written = summarize(record);
            // A lease lost between the check and the write: the record may name a swept blob.
            if ((await lease.ensure()) === epoch || (await outputsIntact(result.outputs))) break;
            await planner.store.records.delete(key);
            written = undefined;
          }
          if (attempt >= 3) throw new Error(`gc removed this task's outputs ${attempt} times while its run had lost its gc lease`);
          reporter.warn(`${task.id}: gc removed its outputs while this run had lost its gc lease (stopped too long?); recomputing`);
        }
        if (result.kind === 'record' && result.reused && !opts.force.has(task.stage.name)) return await reuse(task, result.record);
        const summary = result.kind === 'record' ? summarize(result.record) : written!;
        const outs = summary.outputs;
        // Its worker (or batch job) hashed these as it wrote them: its dependents need not read them again.
        for (const name in outs) if (Object.hasOwn(outs, name)) planner.store.blobs.noteIntact(outs[name]!.hash);
        // The record as it is now (a batch job's was read in full from its file): a summary the
        // index held for this key before (a forced run's old outputs) must not outlive it.
        const sig = writtenSig ?? planner.store.records.sig(key);
        await planner.store.index.setKey(planner.experiment, task.id, key, sig ? { sig, record: summary } : undefined);
        timings.set(task, summary);
        ranHere.add(task);
        noteDuration(task.stage, summary.durationMs);
        if (publishes(task.stage)) for (const p of await publishOutputs(planner, task, outs)) published.add(p);
        reporter.taskEnded(task.id, 'executed', undefined, summary.durationMs);
        settle(task, { id: task.id, stage: task.stage.name, state: 'executed', key, durationMs: summary.durationMs }, outs);
      } catch (e) {
        fail(task, e, key);
      } finally {
        executing.delete(task);
        await release?.().catch(() => {});
      }
    };

    /** Every output's blob is on disk with its bytes (hashed again, not from memory). */
    const outputsIntact = async (outs: Record<string, OutputEntry>): Promise<boolean> => {
      for (const o of Object.values(outs)) if ((await planner.store.blobs.verify(o.hash, true)) !== 'ok') return false;
      return true;
    };

    const lineageUpstreamOf = (task: TaskNode): LineageEntry[] => {
      // In run order, sorting only the upstream tasks (not a scan of the whole run per task).
      const upstream = [...withUpstream(task.deps)].filter((t) => order.has(t)).sort((a, b) => order.get(a)! - order.get(b)!);
      const lineage: LineageEntry[] = [];
      for (const t of upstream) {
        const key = results.get(t)?.key;
        const r = timings.get(t) ?? (key === undefined ? undefined : planner.store.index.known(planner.experiment, key)?.record);
        if (r) lineage.push(lineageOf(r, ranHere.has(t)));
      }
      return lineage;
    };

    const inputsOf = (task: TaskNode): Record<string, InputTask[]> => {
      const byStage: Record<string, InputTask[]> = {};
      for (const dep of task.deps) {
        const outs = readOutputs(task, dep, outputs.get(dep)!);
        const refs: InputTask['outputs'] = {};
        for (const [name, o] of Object.entries(outs)) refs[name] = { ...o, path: planner.store.blobs.path(o.hash) };
        (byStage[dep.stage.name] ??= []).push({ id: dep.id, stage: dep.stage.name, axes: dep.axes, outputs: refs });
      }
      return byStage;
    };

    const onAbort = (): void => {
      interrupted = true;
      reporter.interrupted();
      queue.clear();
      pending.length = 0;
      head = 0;
      void pool.kill();
      // Running tasks settle as their workers die; everything not yet started is interrupted now.
      for (const t of tasks) if (!results.has(t) && !executing.has(t)) results.set(t, { id: t.id, stage: t.stage.name, state: 'interrupted' });
      finishIfDone();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort);

    if (tasks.length === 0) finishIfDone();
    void (async () => {
      let sliceStart = Date.now();
      for (const [i, t] of tasks.entries()) {
        if (interrupted) return;
        waiting.set(t, t.deps.filter((d) => selected.has(d)).length);
        if (i % 1024 === 0 && Date.now() - sliceStart >= SLICE_MS) {
          await yieldToLoop();
          sliceStart = Date.now();
        }
      }
      for (const t of tasks) if (waiting.get(t) === 0) pending.push(t);
      if (pending.length) void pump();
    })();
  });
  clearInterval(flushTimer);
  flush();
  await lease.release();
  return summary;
}
