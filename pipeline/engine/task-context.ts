// The TaskContext a stage's run() receives: verified reads, schema-checked writes to the store.
import { mkdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import { ContractViolation } from './errors.ts';
import { canonicalJson } from './fingerprint.ts';
import { schemaValidator, type SchemaValidator } from './schema-validator.ts';
import type { Store, OutputEntry } from './store.ts';
import type { ArtifactRef, Json, JsonObject, StageDecl, TaskContext } from './types.ts';
import type { TaskAssignment } from './protocol.ts';

const validators = new Map<string, SchemaValidator>();
/** The same schema object again (every write of a stage's output): no canonical JSON per write. */
const byObject = new WeakMap<JsonObject, SchemaValidator>();

/**
 * One compiled validator per schema content. Each is compiled by its own Ajv: two stages may declare equal
 * schemas as distinct objects with the same $id, which one shared Ajv registry would refuse.
 */
export function validatorFor(schema: JsonObject): SchemaValidator {
  const known = byObject.get(schema);
  if (known) return known;
  const key = canonicalJson(schema);
  let v = validators.get(key);
  // Compiled once per schema content, across commands too (schema-validator.ts): every command
  // checks each stage's params (checkParams).
  if (!v) validators.set(key, (v = schemaValidator(schema, { allErrors: true, strict: false })));
  byObject.set(schema, v);
  return v;
}

export interface ContextHooks {
  progress(done: number, total: number, message?: string): void;
  log(message: string): void;
}

export async function createTaskContext(
  stage: StageDecl,
  task: TaskAssignment,
  store: Store,
  hooks: ContextHooks,
  signal: AbortSignal,
): Promise<{ ctx: TaskContext; outputs: Record<string, OutputEntry>; cleanup(): Promise<void> }> {
  const outputs: Record<string, OutputEntry> = {};
  const tmpDir = store.scratchPath(`task-${task.key.slice(0, 12)}`);
  // Made when a stage first asks for it: most never do, and a folder made and removed per task
  // costs the worker its syscalls and the file system an inode freed each time.
  let made = false;

  const claim = (name: string, kind: 'json' | 'bytes'): void => {
    const spec = stage.outputs[name];
    if (!spec) throw new ContractViolation(`stage '${stage.name}' wrote output '${name}', which it does not declare (declared: ${Object.keys(stage.outputs).join(', ')})`);
    if (spec.kind !== kind) throw new ContractViolation(`stage '${stage.name}' output '${name}' is declared ${spec.kind}, written as ${kind}`);
    if (outputs[name]) throw new ContractViolation(`stage '${stage.name}' wrote output '${name}' twice`);
  };

  const ctx: TaskContext = {
    id: task.id,
    stage: task.stage,
    axes: task.axes,
    params: task.params,
    inputs: task.inputs,
    experiment: task.experiment,
    baseExperiment: task.baseExperiment,
    overrides: task.overrides,
    lineage: task.lineage,
    get tmpDir() {
      if (!made) {
        mkdirSync(tmpDir, { recursive: true });
        made = true;
      }
      return tmpDir;
    },
    signal,
    async readBytes(ref: ArtifactRef) {
      return store.blobs.read(ref.hash);
    },
    async readJson<T = Json>(ref: ArtifactRef) {
      return JSON.parse((await store.blobs.read(ref.hash)).toString('utf8')) as T;
    },
    async writeJson(name: string, value: unknown) {
      claim(name, 'json');
      const schema = stage.outputs[name]!.schema;
      if (schema) {
        const validate = validatorFor(schema);
        if (!validate(value)) {
          const errs = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`);
          throw new ContractViolation(`stage '${stage.name}' output '${name}' does not match its schema: ${errs.join('; ')}`);
        }
      }
      outputs[name] = await store.blobs.putJson(value);
    },
    async writeBytes(name: string, bytes: Uint8Array) {
      claim(name, 'bytes');
      outputs[name] = await store.blobs.put(bytes);
    },
    progress: hooks.progress,
    log: hooks.log,
  };
  return {
    ctx,
    outputs,
    cleanup: async () => {
      if (made) await fs.rm(tmpDir, { recursive: true, force: true });
    },
  };
}

export function checkAllOutputsWritten(stage: StageDecl, outputs: Record<string, OutputEntry>): void {
  const missing = Object.entries(stage.outputs).filter(([n, spec]) => !spec.optional && !outputs[n]).map(([n]) => n);
  if (missing.length) throw new ContractViolation(`stage '${stage.name}' finished without writing output(s): ${missing.join(', ')}`);
}
