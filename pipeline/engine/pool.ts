// A pool of worker processes. Tasks run outside the main process so a long training task never
// blocks progress display, locks' heartbeats or Ctrl-C handling.
// Each worker runs its tasks one at a time, in the order sent, and answers each as it ends. A
// worker may be handed several at once (the scheduler does so only for stages whose tasks take
// milliseconds): they are sent when the worker is down to its last task, all in one message, since
// a message costs the parent a system call and wakes the worker, which on small tasks cost more
// than the rest of the parent's work for the task. A long task is handed to an idle worker.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeEntry } from './compiled.ts';
import { fromWire, InterruptedError } from './errors.ts';
import type { TaskResources } from './resources.ts';
import type { OutputEntry } from './store.ts';
import type { CommittedRecord, FromWorker, TaskAssignment, ToWorker, WorkerJob } from './protocol.ts';

export interface TaskEvents {
  progress(done: number, total: number, message?: string): void;
  log(message: string): void;
}

export interface PoolResult {
  outputs: Record<string, OutputEntry>;
  resources: TaskResources;
  committed?: CommittedRecord;
}

interface Pending {
  job: WorkerJob;
  events: TaskEvents;
  resolve(r: PoolResult): void;
  reject(e: unknown): void;
}

interface Slot {
  child: ChildProcess;
  /** Sent, in the order the worker runs them: the first is running, the rest wait in the worker. */
  sent: Pending[];
  /** To be sent in one message, at the end of this turn of the event loop once the worker holds at most one task. */
  outbox: Pending[];
  /** A flush is due at the end of this turn. */
  flushing: boolean;
  gone: boolean;
}

// The compiled worker when this process runs compiled code, else the source through tsx.
const WORKER = nodeEntry(fileURLToPath(new URL('./worker.ts', import.meta.url)));

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly projectModule: string,
    private readonly storeDir: string,
  ) {}

  /** The task's outputs, what it cost the worker that ran it, and its record when `record` asked the worker to write it. */
  run(task: TaskAssignment, events: TaskEvents, record?: WorkerJob['record']): Promise<PoolResult> {
    if (this.closed) return Promise.reject(new InterruptedError());
    return new Promise((resolve, reject) => this.assign({ job: { task, ...(record ? { record } : {}) }, events, resolve, reject }));
  }

  /** An idle worker (a new one while fewer than `size` live), else the one with the fewest tasks. */
  private assign(p: Pending): void {
    const load = (s: Slot): number => s.sent.length + s.outbox.length;
    let slot = this.slots.find((s) => load(s) === 0);
    if (!slot && this.slots.length < this.size) slot = this.spawn();
    slot ??= this.slots.reduce((a, b) => (load(b) < load(a) ? b : a));
    if (slot.outbox.push(p) === 1) this.flushSoon(slot);
  }

  /** Sends the worker what waits for it, at the end of this turn, when it is down to its last task. */
  private flushSoon(slot: Slot): void {
    if (slot.flushing || slot.sent.length > 1 || !slot.outbox.length) return;
    slot.flushing = true;
    setImmediate(() => this.flush(slot));
  }

  private flush(slot: Slot): void {
    slot.flushing = false;
    if (slot.gone || !slot.outbox.length || slot.sent.length > 1) return;
    const jobs = slot.outbox;
    slot.outbox = [];
    slot.sent.push(...jobs);
    const msg: ToWorker = { type: 'run', projectModule: this.projectModule, storeDir: this.storeDir, jobs: jobs.map((p) => p.job) };
    slot.child.send(msg);
  }

  private spawn(): Slot {
    const child = fork(WORKER.file, [], {
      execArgv: WORKER.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: Slot = { child, sent: [], outbox: [], flushing: false, gone: false };
    this.slots.push(slot);
    child.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready') return;
      const i = slot.sent.findIndex((p) => p.job.task.id === msg.id);
      const p = slot.sent[i];
      if (!p) return;
      if (msg.type === 'progress') p.events.progress(msg.done, msg.total, msg.message);
      else if (msg.type === 'log') p.events.log(msg.message);
      else {
        slot.sent.splice(i, 1);
        this.flushSoon(slot);
        if (msg.type === 'done') p.resolve({ outputs: msg.outputs, resources: msg.resources, ...(msg.committed ? { committed: msg.committed } : {}) });
        else p.reject(fromWire(msg.error));
      }
    });
    // Stopped by kill(): every task it holds is interrupted.
    child.on('exit', () => {
      if (this.closed) this.retire(slot, () => new InterruptedError());
    });
    // Died by itself: 'close' comes once every message it sent was read, so the first task it
    // holds is the one that was running. That one failed; the others never started and go to
    // another worker.
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.closed) return this.retire(slot, () => new InterruptedError());
      const [running, ...waiting] = [...slot.sent, ...slot.outbox];
      slot.sent = slot.outbox = [];
      this.retire(slot, () => new InterruptedError());
      running?.reject(new Error(`worker process died (${signal ?? `exit code ${code}`})`));
      for (const p of waiting) this.assign(p);
    });
    return slot;
  }

  /** Takes a worker out of the pool; whatever it still holds ends with `error`. */
  private retire(slot: Slot, error: () => Error): void {
    if (slot.gone) return;
    slot.gone = true;
    this.slots.splice(this.slots.indexOf(slot), 1);
    for (const p of [...slot.sent, ...slot.outbox]) p.reject(error());
    slot.sent = slot.outbox = [];
  }

  /** Stops every worker: running tasks end without a record, waiting ones never start. */
  kill(): void {
    this.closed = true;
    for (const s of this.slots) {
      for (const p of s.outbox) p.reject(new InterruptedError());
      s.outbox = [];
      if (s.child.exitCode === null) s.child.kill('SIGTERM');
    }
  }

  close(): void {
    this.closed = true;
    for (const s of this.slots) if (s.child.connected) s.child.disconnect();
  }
}
