// Messages between the scheduler (parent) and its worker processes.
import type { WireError } from './errors.ts';
import type { TaskResources } from './resources.ts';
import type { RecordSummary, RecordTemplate } from './record.ts';
import type { OutputEntry } from './store.ts';
import type { InputTask, JsonObject, LineageEntry, TaskKey } from './types.ts';

export interface TaskAssignment {
  id: string;
  stage: string;
  key: string;
  axes: JsonObject;
  params: JsonObject;
  inputs: Record<string, InputTask[]>;
  experiment: string;
  baseExperiment: string;
  overrides: JsonObject;
  lineage: LineageEntry[];
}

/**
 * `record`: the worker writes the task's record itself from this template, started when the
 * worker starts the task (a temp file, fsynced, renamed into place), and hands back its summary and
 * its file's stat signature: the write, its fsync, the rename and the stat cost the scheduler
 * nothing. The scheduler holds the key's lock meanwhile, and checks its gc lease once the record
 * is there (a record is only ever removed again when gc took its outputs while the lease was lost).
 */
export interface WorkerJob {
  task: TaskAssignment;
  /** The record's template less what the task says already (key, id, stage, experiment, axes, params). */
  record?: { template: TemplateRest };
}

export type TemplateRest = Omit<RecordTemplate, 'key' | 'id' | 'stage' | 'experiment' | 'axes' | 'params'>;

/** The part of a record's template that goes over the wire: what the task holds already is not sent twice. */
export function templateRest({ key: _k, id: _i, stage: _s, experiment: _e, axes: _a, params: _p, ...rest }: RecordTemplate): TemplateRest {
  return rest;
}

/** The record's template again, its fields in the order the planner gives them. */
export function templateOf(task: TaskAssignment, rest: TemplateRest): RecordTemplate {
  return { key: task.key as TaskKey, id: task.id, stage: task.stage, experiment: task.experiment, axes: task.axes, params: task.params, ...rest };
}

/** Jobs the worker runs one after another, in this order, after any it holds already. */
export type ToWorker = { type: 'run'; projectModule: string; storeDir: string; jobs: WorkerJob[] };

/** A record a worker wrote: its summary and its file's stat signature (for the index). */
export interface CommittedRecord {
  sig: string;
  record: RecordSummary;
}

/** How a task ended in the worker. */
export type TaskEnd =
  | { id: string; ok: true; outputs: Record<string, OutputEntry>; resources: TaskResources; committed?: CommittedRecord }
  | { id: string; ok: false; error: WireError };

/**
 * `ended`: tasks that ended, in order. A worker that holds further tasks keeps its answers until
 * it starts its last one (one message, and one wake-up of the parent, for several small tasks).
 */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: string; done: number; total: number; message?: string }
  | { type: 'log'; id: string; message: string }
  | { type: 'ended'; tasks: TaskEnd[] };
