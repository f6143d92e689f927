// A pool of worker processes. Tasks run outside the main process so a long training task never
// blocks progress display, locks' heartbeats or Ctrl-C handling.
// Each worker runs its tasks one at a time, in the order sent. Small tasks (`queue`: the
// scheduler says so only for stages whose tasks take milliseconds) may wait several in one
// worker: they are sent in one message when the worker is down to its last task, and it answers
// them in one message when it starts its last one. A message costs the parent a system call and
// a wake-up, which on small tasks cost more than the rest of the parent's work for the task.
// Any other task goes to an idle worker alone.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeEntry } from './compiled.ts';
import { fromWire, InterruptedError } from './errors.ts';
import type { TaskResources } from './resources.ts';
import type { OutputEntry } from './store.ts';
import type { CommittedRecord, FromWorker, TaskAssignment, TaskEnd, ToWorker, WorkerJob } from './protocol.ts';

export interface TaskEvents {
  progress(done: number, total: number, message?: string): void;
  log(message: string): void;
}

export interface PoolResult {
  outputs: Record<string, OutputEntry>;
  resources: TaskResources;
  committed?: CommittedRecord;
  /** When (performance.now()) the worker's answer was read: after its record was written. */
  answeredAt: number;
}

interface Pending {
  job: WorkerJob;
  events: TaskEvents;
  /** May wait in a worker behind other such tasks. */
  queue: boolean;
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

/** Tasks that may wait in one worker, the one running included. */
export const QUEUED_PER_WORKER = 4;

// The compiled worker when this process runs compiled code, else the source through tsx.
const WORKER = nodeEntry(fileURLToPath(new URL('./worker.ts', import.meta.url)));

const load = (s: Slot): number => s.sent.length + s.outbox.length;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  /** Tasks no worker can take now (each alone, or every worker full), in order. */
  private readonly waiting: Pending[] = [];
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly projectModule: string,
    private readonly storeDir: string,
  ) {}

  /**
   * The task's outputs, what it cost the worker that ran it, and its record when `record` asked
   * the worker to write it. `queue`: a small task, which may wait in a worker behind others.
   */
  run(task: TaskAssignment, events: TaskEvents, record?: WorkerJob['record'], queue = false): Promise<PoolResult> {
    if (this.closed) return Promise.reject(new InterruptedError());
    return new Promise((resolve, reject) => this.assign({ job: { task, ...(record ? { record } : {}) }, events, queue, resolve, reject }));
  }

  /** An idle worker (a new one while fewer than `size` live); a small task else the least loaded worker of small tasks with room; else it waits. */
  private assign(p: Pending): void {
    let slot = this.slots.find((s) => load(s) === 0);
    if (!slot && this.slots.length < this.size) slot = this.spawn();
    if (!slot && p.queue)
      for (const s of this.slots) if (load(s) < QUEUED_PER_WORKER && s.sent.every((q) => q.queue) && s.outbox.every((q) => q.queue) && (!slot || load(s) < load(slot))) slot = s;
    if (!slot) {
      this.waiting.push(p);
      return;
    }
    slot.outbox.push(p);
    this.flushSoon(slot);
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
    // A worker gone meanwhile: 'close' (below) deals with what it holds.
    slot.child.send(msg, () => {});
  }

  /** Hands waiting tasks to workers that can take them now, in order. */
  private assignWaiting(): void {
    const waiting = this.waiting.splice(0);
    for (const p of waiting) this.assign(p);
  }

  private spawn(): Slot {
    const child = fork(WORKER.file, [], {
      execArgv: WORKER.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: Slot = { child, sent: [], outbox: [], flushing: false, gone: false };
    this.slots.push(slot);
    const taken = (id: string): Pending | undefined => {
      const i = slot.sent.findIndex((p) => p.job.task.id === id);
      return i < 0 ? undefined : slot.sent.splice(i, 1)[0];
    };
    child.on('message', (msg: FromWorker) => {
      if (msg.type === 'ended') {
        const answeredAt = performance.now();
        const ends: [Pending, TaskEnd][] = [];
        for (const e of msg.tasks) {
          const p = taken(e.id);
          if (p) ends.push([p, e]);
        }
        this.flushSoon(slot);
        if (this.waiting.length) this.assignWaiting();
        for (const [p, e] of ends) {
          if (e.ok) p.resolve({ outputs: e.outputs, resources: e.resources, ...(e.committed ? { committed: e.committed } : {}), answeredAt });
          else p.reject(fromWire(e.error));
        }
        return;
      }
      if (msg.type === 'ready') return;
      const p = slot.sent.find((q) => q.job.task.id === msg.id);
      if (msg.type === 'progress') p?.events.progress(msg.done, msg.total, msg.message);
      else p?.events.log(msg.message);
    });
    // Died by itself. 'close' comes once every message it sent was read, so what it holds had no
    // answer. One task: it was running, and failed. Several: the worker keeps answers until its
    // last task starts, so which one killed it is not known; each runs again alone on a worker of
    // its own, where the one that kills a worker fails.
    const died = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (slot.gone) return;
      if (this.closed) return this.retire(slot);
      const held = [...slot.sent, ...slot.outbox];
      slot.sent = slot.outbox = [];
      this.retire(slot);
      if (held.length === 1) held[0]!.reject(new Error(`worker process died (${signal ?? `exit code ${code}`})`));
      else for (const p of held) this.assign({ ...p, queue: false });
      this.assignWaiting();
    };
    child.on('close', died);
    child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      // Stopped by kill(): every task it holds is interrupted.
      if (this.closed) return this.retire(slot);
      // 'close' waits for the channel, which a process the task started may still hold open.
      const late = setTimeout(() => died(code, signal), 2000);
      child.once('close', () => clearTimeout(late));
    });
    return slot;
  }

  /** Takes a worker out of the pool; whatever it still holds is interrupted. */
  private retire(slot: Slot): void {
    if (slot.gone) return;
    slot.gone = true;
    this.slots.splice(this.slots.indexOf(slot), 1);
    for (const p of [...slot.sent, ...slot.outbox]) p.reject(new InterruptedError());
    slot.sent = slot.outbox = [];
  }

  /** Stops every worker: running tasks end without a record, waiting ones never start. */
  kill(): void {
    this.closed = true;
    for (const p of this.waiting.splice(0)) p.reject(new InterruptedError());
    for (const s of this.slots) {
      for (const p of s.outbox) p.reject(new InterruptedError());
      s.outbox = [];
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
    }
  }

  close(): void {
    this.closed = true;
    for (const s of this.slots) if (s.child.connected) s.child.disconnect();
  }
}
