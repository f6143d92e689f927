// Messages between the scheduler (parent) and its worker processes.
import type { WireError } from './errors.ts';
import type { TaskResources } from './resources.ts';
import type { RecordSummary, RecordTemplate } from './record.ts';
import type { OutputEntry } from './store.ts';
import type { InputTask, JsonObject, LineageEntry } from './types.ts';

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
 * `record`: the worker writes the task's record itself (staged: a temp file, fsynced) from this
 * template, with `started` as its start, and hands back where it lies; the scheduler renames it
 * into place (records.commit), so the write and its fsync cost the scheduler nothing.
 */
export type ToWorker = { type: 'run'; projectModule: string; storeDir: string; task: TaskAssignment; record?: { template: RecordTemplate; started: number } };

/** A record a worker staged: the temp file and the record's summary. */
export interface StagedRecord {
  file: string;
  record: RecordSummary;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: string; done: number; total: number; message?: string }
  | { type: 'log'; id: string; message: string }
  | { type: 'done'; id: string; outputs: Record<string, OutputEntry>; resources: TaskResources; staged?: StagedRecord }
  | { type: 'error'; id: string; error: WireError };
