// Where a ready task runs. The scheduler plans, keys and takes cache hits; an executor only runs
// what it is handed: local worker processes (the parent writes the record), or batch jobs on a
// cluster (each job takes the key's lock and writes the record itself, so a job outlives a
// submitter that died and its work is still kept).
import { QUEUED_PER_WORKER, WorkerPool, type TaskEvents } from './pool.ts';
import type { RecordTemplate } from './planner.ts';
import { templateRest, type CommittedRecord, type TaskAssignment } from './protocol.ts';
import type { TaskResources } from './resources.ts';
import type { OutputEntry, TaskRecord } from './store.ts';
import type { StageDecl } from './types.ts';

export interface ExecJob {
  task: TaskAssignment;
  stage: StageDecl;
  /** What the record will hold besides outputs and timings. */
  template: RecordTemplate;
  /** Compute even when a record for the key exists (`--force`). */
  force: boolean;
  /** A task of a stage whose tasks take milliseconds: it may wait where it will run (Executor.queues). */
  small?: boolean;
}

/**
 * What a job left: outputs (the scheduler records them, with the task's resources where the
 * executor measured them, or takes the record the job `committed`), or the record it wrote;
 * `reused`: the record was there already (another run computed the task meanwhile), so this run
 * computed nothing.
 */
export type ExecResult =
  | { kind: 'outputs'; outputs: Record<string, OutputEntry>; resources?: TaskResources; committed?: CommittedRecord; answeredAt?: number }
  | { kind: 'record'; record: TaskRecord; reused?: boolean };

export interface Executor {
  /** true: the job locks the key and writes the record; the scheduler must not hold the lock meanwhile. */
  readonly writesRecords: boolean;
  /**
   * n: `run` may be called for up to n times `jobs` small tasks (ExecJob.small) at once; the extra
   * ones wait where they will run (a worker), so the next one starts without a round trip.
   */
  readonly queues?: number;
  run(job: ExecJob, events: TaskEvents): Promise<ExecResult>;
  /** Stop every running job (Ctrl-C): none leaves a record. */
  kill(): Promise<void>;
  close(): void;
}

export class LocalExecutor implements Executor {
  readonly writesRecords = false;
  readonly queues = QUEUED_PER_WORKER;
  private readonly pool: WorkerPool;

  constructor(jobs: number, projectModule: string, storeDir: string) {
    this.pool = new WorkerPool(jobs, projectModule, storeDir);
  }

  async run(job: ExecJob, events: TaskEvents): Promise<ExecResult> {
    // The worker writes the record (its write, fsync and rename are the worker's); the scheduler then checks its lease.
    return { kind: 'outputs', ...(await this.pool.run(job.task, events, { template: templateRest(job.template) }, job.small)) };
  }

  async kill(): Promise<void> {
    this.pool.kill();
  }

  close(): void {
    this.pool.close();
  }
}
