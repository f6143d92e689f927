// The task record: one TypeBox contract gives both its JSON Schema (checked on every read) and
// its TypeScript type. Records come from disk, where anything can happen to them (hand edits,
// truncation, a hostile file): every record is checked here before any field of it is used,
// above all before a hash in it becomes part of a path.
import os from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { schemaValidator, type SchemaValidator } from './schema-validator.ts';
import { TaskResourcesSchema, type TaskResources } from './resources.ts';
import type { ContentHash, JsonObject, StageDecl, TaskKey } from './types.ts';

/** A sha256 hex digest: the only shape a blob hash or task key may have. */
export const HASH_RE = /^[0-9a-f]{64}$/;
/** HASH_RE.test, as a loop over char codes: it runs for every path a no-op builds (a regex costs ~10x). */
export function isHash(s: unknown): s is string {
  if (typeof s !== 'string' || s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || (c > 57 && c < 97) || c > 102) return false;
  }
  return true;
}

const Hash = Type.String({ pattern: HASH_RE.source });
const Key = Type.Unsafe<TaskKey>(Hash);
const BlobHash = Type.Unsafe<ContentHash>(Hash);
/** Any JSON object (axes, params, runtime): their shape is the stage's. */
const AnyObject = Type.Unsafe<JsonObject>({ type: 'object' });

export const OutputEntrySchema = Type.Object({
  hash: BlobHash,
  size: Type.Integer({ minimum: 0 }),
});
/** One stored output: its blob and size. */
export type OutputEntry = Static<typeof OutputEntrySchema>;

export const TaskRecordSchema = Type.Object({
  key: Key,
  id: Type.String(),
  stage: Type.String(),
  experiment: Type.String(),
  axes: AnyObject,
  params: AnyObject,
  /** upstream task id -> output name -> blob hash */
  inputs: Type.Record(Type.String(), Type.Record(Type.String(), Hash)),
  code: Type.String(),
  /** data files the stage's code read (relative path -> content hash); absent in records before key v2 */
  files: Type.Optional(Type.Record(Type.String(), Type.String())),
  runtime: AnyObject,
  outputs: Type.Record(Type.String(), OutputEntrySchema),
  startedAt: Type.String(),
  endedAt: Type.String(),
  durationMs: Type.Number({ minimum: 0 }),
  host: Type.String(),
  versions: Type.Optional(Type.Record(Type.String(), Type.String())),
  /** The last log lines (all of them are in the task's log file, logs/<key>.log). */
  logs: Type.Optional(Type.Array(Type.String())),
  /** CPU and peak memory of the process that ran the task (resources.ts); absent in older records and for executors that do not measure. */
  resources: Type.Optional(TaskResourcesSchema),
  status: Type.Literal('ok'),
  /** Where a batch executor ran the task (absent for local workers). */
  executor: Type.Optional(Type.Object({ kind: Type.String(), jobId: Type.String(), log: Type.String(), node: Type.Optional(Type.String()) })),
});
export type TaskRecord = Static<typeof TaskRecordSchema>;

/** What a cache hit needs of a record; the rest is read in full where it is used (show, why). */
export const RecordSummarySchema = Type.Pick(TaskRecordSchema, ['key', 'id', 'stage', 'outputs', 'startedAt', 'endedAt', 'durationMs', 'host']);
export type RecordSummary = Static<typeof RecordSummarySchema>;

/** The summary of a (valid) record. */
export function summarize(r: TaskRecord): RecordSummary {
  return { key: r.key, id: r.id, stage: r.stage, outputs: r.outputs, startedAt: r.startedAt, endedAt: r.endedAt, durationMs: r.durationMs, host: r.host };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `value` when it is a valid summary of the record of `key` (an index line is checked like a
 * record): what RecordSummarySchema checks, written out, because a no-op checks one per task and
 * a compiled schema costs ~100 ms to build and several microseconds per line
 * (test/engine/record-check.test.ts holds the two to the same verdicts).
 */
export function checkSummary(value: unknown, key: string): RecordSummary | undefined {
  if (!isObject(value)) return undefined;
  const { id, stage, outputs, startedAt, endedAt, durationMs, host } = value;
  if (value.key !== key || !isHash(key)) return undefined;
  if (typeof id !== 'string' || typeof stage !== 'string' || typeof startedAt !== 'string' || typeof endedAt !== 'string' || typeof host !== 'string') return undefined;
  if (typeof durationMs !== 'number' || !(durationMs >= 0)) return undefined;
  if (!isObject(outputs)) return undefined;
  for (const name in outputs) {
    if (!Object.hasOwn(outputs, name)) continue;
    const o = outputs[name];
    if (!isObject(o) || !isHash(o.hash) || typeof o.size !== 'number' || !Number.isInteger(o.size) || o.size < 0) return undefined;
  }
  return value as RecordSummary;
}

let validator: SchemaValidator | undefined;

/**
 * The record in `text` when it is one for `key`; otherwise a short description of what is wrong
 * (first few schema errors, JSON path first).
 */
export function parseRecord(text: string, key: string): { record: TaskRecord } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { problem: `not valid JSON (${(e as Error).message})` };
  }
  validator ??= schemaValidator(TaskRecordSchema, { allErrors: true, strict: false });
  if (!validator(value)) {
    const errs = (validator.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    return { problem: `does not match the task record schema: ${errs.join('; ')}` };
  }
  const record = value as TaskRecord;
  if (record.key !== key) return { problem: `its key ${record.key} is not the key of its file name` };
  return { record };
}

/** Whether outputsProblem finds nothing, without building its message (once per task on a no-op). */
export function outputsFit(record: Pick<TaskRecord, 'outputs'>, stage: Pick<StageDecl, 'outputs'>): boolean {
  let found = 0;
  for (const n in record.outputs) {
    if (!Object.hasOwn(record.outputs, n)) continue;
    if (!Object.hasOwn(stage.outputs, n)) return false;
    if (!stage.outputs[n]!.optional) found++;
  }
  let required = 0;
  for (const n in stage.outputs) if (Object.hasOwn(stage.outputs, n) && !stage.outputs[n]!.optional) required++;
  return found === required;
}

/** What is wrong with a (schema-valid) record as the record of a task of `stage`, or undefined. */
export function outputsProblem(record: Pick<TaskRecord, 'stage' | 'outputs'>, stage: Pick<StageDecl, 'name' | 'outputs'>): string | undefined {
  if (record.stage !== stage.name) return `it is a record of stage '${record.stage}', not '${stage.name}'`;
  const undeclared = Object.keys(record.outputs).filter((n) => !Object.hasOwn(stage.outputs, n));
  const missing = Object.entries(stage.outputs).filter(([n, s]) => !s.optional && !Object.hasOwn(record.outputs, n)).map(([n]) => n);
  if (!undeclared.length && !missing.length) return undefined;
  const parts = [
    undeclared.length ? `undeclared output(s) ${undeclared.join(', ')}` : '',
    missing.length ? `missing output(s) ${missing.join(', ')}` : '',
  ].filter(Boolean);
  return `its outputs do not match stage '${stage.name}' (${parts.join('; ')}; declared: ${Object.keys(stage.outputs).join(', ')})`;
}

export type RecordTemplate = Omit<TaskRecord, 'outputs' | 'startedAt' | 'endedAt' | 'durationMs' | 'host' | 'logs' | 'executor' | 'resources'>;

/**
 * A finished task's record: the template plus its outputs, timings, host and last log lines, where
 * a batch executor ran it, and what it cost the process that ran it.
 */
export function completeRecord(
  t: RecordTemplate,
  outputs: Record<string, OutputEntry>,
  started: number,
  logs: string[],
  { executor, resources }: { executor?: TaskRecord['executor']; resources?: TaskResources } = {},
): TaskRecord {
  const ended = Date.now();
  return {
    ...t,
    outputs,
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(ended).toISOString(),
    durationMs: ended - started,
    host: os.hostname(),
    logs: logs.slice(-200),
    ...(executor ? { executor } : {}),
    ...(resources ? { resources } : {}),
  };
}
