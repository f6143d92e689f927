// The task record: one TypeBox contract gives both its JSON Schema (checked on every read) and
// its TypeScript type. Records come from disk, where anything can happen to them (hand edits,
// truncation, a hostile file): every record is checked here before any field of it is used,
// above all before a hash in it becomes part of a path.
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { TaskResourcesSchema } from './resources.ts';
import type { ContentHash, JsonObject, StageDecl, TaskKey } from './types.ts';

/** A sha256 hex digest: the only shape a blob hash or task key may have. */
export const HASH_RE = /^[0-9a-f]{64}$/;
export const isHash = (s: unknown): s is string => typeof s === 'string' && HASH_RE.test(s);

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

let summaryValidator: ValidateFunction | undefined;

/** `value` when it is a valid summary of the record of `key` (an index line is checked like a record). */
export function checkSummary(value: unknown, key: string): RecordSummary | undefined {
  // Compiled by every command that reads the index: no meta-schema check, no code optimization pass (config.ts).
  summaryValidator ??= new Ajv({ strict: false, validateSchema: false, code: { optimize: false } }).compile(RecordSummarySchema);
  return summaryValidator(value) && (value as RecordSummary).key === key ? (value as RecordSummary) : undefined;
}

let validator: ValidateFunction | undefined;

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
  validator ??= new Ajv({ allErrors: true, strict: false, validateSchema: false, code: { optimize: false } }).compile(TaskRecordSchema);
  if (!validator(value)) {
    const errs = (validator.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    return { problem: `does not match the task record schema: ${errs.join('; ')}` };
  }
  const record = value as TaskRecord;
  if (record.key !== key) return { problem: `its key ${record.key} is not the key of its file name` };
  return { record };
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
