// A worker process: imports the project, runs one task at a time (in the order handed over; the
// parent may hand over several at once), writes artifacts, the task's log and its record to the
// store and measures what the task cost. The record is written last, renamed into place whole,
// so a worker killed mid-task leaves no record behind.
import { describeError, toWire } from './errors.ts';
import { completeRecord, summarize } from './record.ts';
import { Store } from './store.ts';
import { measureTask } from './resources.ts';
import { TaskLog } from './task-log.ts';
import { loadProject, runTask as runInProcess, stageOf } from './run-task.ts';
import { templateOf, type CommittedRecord, type FromWorker, type TaskEnd, type ToWorker, type WorkerJob } from './protocol.ts';

const abort = new AbortController();
/** One Store per store folder for the worker's life (what it verified stays known). */
const stores = new Map<string, Store>();

function send(msg: FromWorker): void {
  process.send?.(msg);
}

// Ctrl-C reaches the whole process group: the parent decides what happens, the worker ignores it.
process.on('SIGINT', () => {});
// Stopped (Ctrl-C in the parent): answers kept for tasks that ended go out first, so the parent
// can count them as built if it reads them before the exit (their records are in place either way).
process.on('SIGTERM', () => {
  abort.abort();
  if (!ended.length || !process.send) process.exit(143);
  sendEnded(() => process.exit(143));
  setTimeout(() => process.exit(143), 500);
});
// Parent gone (killed): stop at once rather than compute for nobody.
process.on('disconnect', () => process.exit(0));

/** Jobs handed over and not yet started, in order. */
const queue: { job: WorkerJob; projectModule: string; storeDir: string }[] = [];
let running = false;

process.on('message', (msg: ToWorker) => {
  if (msg.type !== 'run') return;
  for (const job of msg.jobs) queue.push({ job, projectModule: msg.projectModule, storeDir: msg.storeDir });
  if (!running) void runQueue();
});

/** Answers not yet sent: kept while more than one task waits here (the parent refills when told). */
let ended: TaskEnd[] = [];

function end(e: TaskEnd): void {
  ended.push(e);
  if (queue.length <= 1) sendEnded();
}

function sendEnded(then?: () => void): void {
  const msg: FromWorker = { type: 'ended', tasks: ended };
  if (then) process.send?.(msg, then);
  else send(msg);
  ended = [];
}

async function runQueue(): Promise<void> {
  running = true;
  try {
    for (let next = queue.shift(); next; next = queue.shift()) await runTask(next);
  } finally {
    running = false;
  }
}

async function runTask(msg: { job: WorkerJob; projectModule: string; storeDir: string }): Promise<void> {
  const { task, record: recordOf } = msg.job;
  const started = Date.now();
  let store: Store | undefined;
  const taskLog = new TaskLog(task);
  const messages: string[] = [];
  try {
    const project = await loadProject(msg.projectModule);
    const stage = stageOf(project, task.stage, msg.projectModule);
    store = stores.get(msg.storeDir);
    if (!store) stores.set(msg.storeDir, (store = new Store(msg.storeDir, { command: project.name })));
    let lastProgress = 0;
    // Around the task itself: importing the project (first task only) is not the task's.
    const used = measureTask();
    const outputs = await runInProcess(
      stage,
      task,
      store,
      {
        progress(done, total, message) {
          const now = Date.now();
          if (now - lastProgress < 100 && done < total) return;
          lastProgress = now;
          send({ type: 'progress', id: task.id, done, total, message });
        },
        log(message) {
          messages.push(message);
          taskLog.add(message);
          send({ type: 'log', id: task.id, message });
        },
      },
      abort.signal,
    );
    const resources = used();
    // Before the parent writes the record: a record's log is there.
    await taskLog.write(store, { ok: true, resources });
    let committed: CommittedRecord | undefined;
    if (recordOf) {
      const record = completeRecord(templateOf(task, recordOf.template), outputs, started, messages, { resources });
      store.records.commit(store.records.stage(record), record.key);
      const sig = store.records.sig(record.key);
      if (sig === undefined) throw new Error(`the record ${store.records.where(record.key)} is gone right after it was written`);
      committed = { sig, record: summarize(record) };
    }
    end({ id: task.id, ok: true, outputs, resources, ...(committed ? { committed } : {}) });
  } catch (e) {
    // A failed task has no record, but its log stays (until gc) for `show` and `trace` to name.
    if (store && !abort.signal.aborted) await taskLog.write(store, { ok: false, error: describeError(e) }).catch(() => {});
    end({ id: task.id, ok: false, error: toWire(e) });
  }
}

send({ type: 'ready' });
