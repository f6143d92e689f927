// Task records come from disk, where anything can happen to them (hand edits, truncation,
// a hostile file): every record is checked here before any field of it is used, above all
// before a hash in it becomes part of a path.
import { Ajv, type ValidateFunction } from 'ajv';
import type { TaskRecord } from './store.ts';
import type { StageDecl } from './types.ts';

/** A sha256 hex digest: the only shape a blob hash or task key may have. */
export const HASH_RE = /^[0-9a-f]{64}$/;
export const isHash = (s: unknown): s is string => typeof s === 'string' && HASH_RE.test(s);

const hash = { type: 'string', pattern: HASH_RE.source };
const object = { type: 'object' };
const str = { type: 'string' };

export const TASK_RECORD_SCHEMA = {
  type: 'object',
  required: ['key', 'id', 'stage', 'experiment', 'axes', 'params', 'inputs', 'code', 'runtime', 'outputs', 'startedAt', 'endedAt', 'durationMs', 'host', 'status'],
  properties: {
    key: hash,
    id: str,
    stage: str,
    experiment: str,
    axes: object,
    params: object,
    inputs: { type: 'object', additionalProperties: { type: 'object', additionalProperties: hash } },
    code: str,
    runtime: object,
    outputs: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['hash', 'size'],
        properties: { hash, size: { type: 'integer', minimum: 0 } },
      },
    },
    startedAt: str,
    endedAt: str,
    durationMs: { type: 'number', minimum: 0 },
    host: str,
    versions: { type: 'object', additionalProperties: str },
    logs: { type: 'array', items: str },
    status: { const: 'ok' },
  },
} as const;

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
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(TASK_RECORD_SCHEMA);
  if (!validator(value)) {
    const errs = (validator.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    return { problem: `does not match the task record schema: ${errs.join('; ')}` };
  }
  const record = value as TaskRecord;
  if (record.key !== key) return { problem: `its key ${record.key} is not the key of its file name` };
  return { record };
}

/** What is wrong with a (schema-valid) record as the record of a task of `stage`, or undefined. */
export function outputsProblem(record: TaskRecord, stage: StageDecl): string | undefined {
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
