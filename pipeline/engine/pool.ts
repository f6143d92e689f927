// A pool of worker processes, one task each at a time. Tasks run outside the main process so a
// long training task never blocks progress display, locks' heartbeats or Ctrl-C handling.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeEntry } from './compiled.ts';
import { fromWire, InterruptedError } from './errors.ts';
import type { TaskResources } from './resources.ts';
import type { OutputEntry } from './store.ts';
import type { CommittedRecord, FromWorker, TaskAssignment, ToWorker } from './protocol.ts';

export interface TaskEvents {
  progress(done: number, total: number, message?: string): void;
  log(message: string): void;
}

interface Slot {
  child: ChildProcess;
  busy: boolean;
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

  private spawn(): Slot {
    const child = fork(WORKER.file, [], {
      execArgv: WORKER.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: Slot = { child, busy: false };
    this.slots.push(slot);
    return slot;
  }

  private acquire(): Slot {
    const free = this.slots.find((s) => !s.busy && s.child.exitCode === null && s.child.signalCode === null);
    if (free) return free;
    if (this.slots.filter((s) => s.child.exitCode === null && s.child.signalCode === null).length >= this.size)
      throw new Error('worker pool is full');
    return this.spawn();
  }

  /** The task's outputs, what it cost the worker that ran it, and its record when `record` asked the worker to stage it. */
  run(task: TaskAssignment, events: TaskEvents, record?: ToWorker['record']): Promise<{ outputs: Record<string, OutputEntry>; resources: TaskResources; committed?: CommittedRecord }> {
    if (this.closed) return Promise.reject(new InterruptedError());
    const slot = this.acquire();
    slot.busy = true;
    const { child } = slot;
    return new Promise((resolve, reject) => {
      const onMessage = (msg: FromWorker): void => {
        if (msg.type === 'ready' || msg.id !== task.id) return;
        if (msg.type === 'progress') events.progress(msg.done, msg.total, msg.message);
        else if (msg.type === 'log') events.log(msg.message);
        else if (msg.type === 'done') finish(() => resolve({ outputs: msg.outputs, resources: msg.resources, ...(msg.committed ? { committed: msg.committed } : {}) }));
        else if (msg.type === 'error') finish(() => reject(fromWire(msg.error)));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        finish(() => reject(this.closed ? new InterruptedError() : new Error(`worker process died (${signal ?? `exit code ${code}`})`)));
      };
      const finish = (then: () => void): void => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        slot.busy = false;
        then();
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      const msg: ToWorker = { type: 'run', projectModule: this.projectModule, storeDir: this.storeDir, task, ...(record ? { record } : {}) };
      child.send(msg);
    });
  }

  /** Stops every worker: running tasks end without a record. */
  kill(): void {
    this.closed = true;
    for (const s of this.slots) if (s.child.exitCode === null) s.child.kill('SIGTERM');
  }

  close(): void {
    this.closed = true;
    for (const s of this.slots) if (s.child.connected) s.child.disconnect();
  }
}
