// Messages between the scheduler (parent) and its worker processes.
import type { WireError } from './errors.ts';
import type { TaskResources } from './resources.ts';
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

export type ToWorker = { type: 'run'; projectModule: string; storeDir: string; task: TaskAssignment };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: string; done: number; total: number; message?: string }
  | { type: 'log'; id: string; message: string }
  | { type: 'done'; id: string; outputs: Record<string, OutputEntry>; resources: TaskResources }
  | { type: 'error'; id: string; error: WireError };
