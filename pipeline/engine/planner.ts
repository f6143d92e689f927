// Resolves each task's key from its declared params, code, runtime and its inputs' content,
// and decides whether a valid cached record exists (hash-verified blobs).
import path from 'node:path';
import { canonicalJson, codeFingerprint, stageKeyer, type CodeFingerprint, type KeyComponents } from './fingerprint.ts';
import { completeRecord, type OutputEntry, type RecordTemplate, type TaskRecord } from './record.ts';
import { StoreProbeMemo } from './probe-memo.ts';
import type { TaskResources } from './resources.ts';
import type { Lookup, Miss, RecordSummary, Store } from './store.ts';
import type { TaskNode } from './graph.ts';
import type { JsonObject, Project, RuntimeContext, RuntimeTarget, StageDecl, TaskKey } from './types.ts';
import type { Variant } from './variant.ts';

export interface Resolved {
  key: TaskKey;
  components: KeyComponents;
}

/**
 * Problems found while planning (bad records, missing or corrupt blobs), each told once by its
 * subject (a path): the command prints them, a run hands them to its reporter as they come.
 */
export class Diagnostics {
  readonly list: string[] = [];
  private readonly seen = new Set<string>();
  private readonly listeners = new Set<(message: string) => void>();

  warn(subject: string, message: string): void {
    if (this.seen.has(subject)) return;
    this.seen.add(subject);
    this.list.push(message);
    for (const l of this.listeners) l(message);
  }

  /** `fn` gets every warning so far, then each new one, until the returned function is called. */
  subscribe(fn: (message: string) => void): () => void {
    for (const m of this.list) fn(m);
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** Why a cached result cannot be used, for `status` reasons; undefined for a record never made. */
export function missReason(miss: Miss): string | undefined {
  switch (miss.why) {
    case 'absent':
      return undefined;
    case 'bad-record':
      return 'its record is invalid';
    case 'missing-blob':
      return `its output '${miss.output}' is missing`;
    case 'corrupt-blob':
      return `its output '${miss.output}' is corrupt`;
  }
}

/** A stage's code and runtime, once known: what resolveNow keys its tasks with. */
interface PreparedStage {
  code: CodeFingerprint;
  runtime: JsonObject;
  /** The params object the keyer was made for (the graph gives each stage's tasks one). */
  params: JsonObject | undefined;
  key: ReturnType<typeof stageKeyer> | undefined;
}

export class Planner {
  private readonly code = new Map<string, Promise<CodeFingerprint>>();
  private readonly runtime = new Map<string, Promise<JsonObject>>();
  private readonly prepared = new Map<StageDecl, PreparedStage>();

  constructor(
    readonly project: Project,
    readonly store: Store,
    readonly variant: Variant,
    /** 'remote': tasks run as batch jobs elsewhere, so runtimes come from what is requested. */
    readonly runtimeTarget: RuntimeTarget = 'local',
  ) {}

  readonly diagnostics = new Diagnostics();

  /** What stage runtimes get: the store's memo of slow host probes (fresh probes when the store is written). */
  get runtimeContext(): RuntimeContext {
    return { probes: new StoreProbeMemo(this.store) };
  }

  /** Problems found while checking the cache (bad records, corrupt blobs), reported by the caller. */
  get warnings(): string[] {
    return this.diagnostics.list;
  }

  /** The name the store's index, published paths and per-experiment keys use (a variant's own name). */
  get experiment(): string {
    return this.variant.name;
  }

  stageCode(stage: StageDecl): Promise<CodeFingerprint> {
    let p = this.code.get(stage.name);
    if (!p) {
      const entry = stage.module.startsWith('file:') ? stage.module : path.resolve(this.project.root, stage.module);
      this.code.set(stage.name, (p = codeFingerprint(entry, this.project.root, stage.files, this.runtimeContext.probes)));
    }
    return p;
  }

  stageRuntime(stage: StageDecl): Promise<JsonObject> {
    let p = this.runtime.get(stage.name);
    if (!p) this.runtime.set(stage.name, (p = Promise.resolve(stage.runtime ? stage.runtime(this.runtimeTarget, this.runtimeContext) : {})));
    return p;
  }

  /** The key of a task whose deps' outputs are all known. */
  async resolve(task: TaskNode, outputsOf: (dep: TaskNode) => Record<string, OutputEntry>): Promise<Resolved> {
    await this.prepareStage(task.stage);
    return this.resolveNow(task, outputsOf)!;
  }

  /**
   * Computes the code fingerprints and runtimes of these stages (once each, concurrently), so
   * that resolveNow keys their tasks without waiting. A stage whose fingerprint or runtime fails
   * stays unprepared: `resolve` then throws its error for each of its tasks.
   */
  async prepare(stages: Iterable<StageDecl>): Promise<void> {
    await Promise.all([...new Set(stages)].map((s) => this.prepareStage(s).catch(() => {})));
  }

  private async prepareStage(stage: StageDecl): Promise<void> {
    if (this.prepared.has(stage)) return;
    const [code, runtime] = await Promise.all([this.stageCode(stage), this.stageRuntime(stage)]);
    if (!this.prepared.has(stage)) this.prepared.set(stage, { code, runtime, params: undefined, key: undefined });
  }

  /** `resolve` without waiting, for a task of a prepared stage; undefined when its stage is not prepared. */
  resolveNow(task: TaskNode, outputsOf: (dep: TaskNode) => Record<string, OutputEntry>): Resolved | undefined {
    const planner = this; // for the getter below, whose `this` is the returned object
    const p = this.prepared.get(task.stage);
    if (!p) return undefined;
    // What the stage's tasks share is written into the key's text once (stageKeyer): they share
    // one params object, as the graph builds them; a task with its own is keyed on its own.
    if (!p.key || p.params !== task.params) {
      const { axes: _a, inputs: _i, ...shared } = this.components(task, p, {});
      p.params = task.params;
      p.key = stageKeyer(shared);
    }
    const key = p.key(task.axes, inputsText(task, outputsOf));
    // The components as objects only when asked for (a record's template, `why`): a no-op keys
    // every task and needs none of them.
    let components: KeyComponents | undefined;
    return {
      key,
      get components() {
        return (components ??= planner.components(task, p, inputsOf(task, outputsOf)));
      },
    };
  }

  private components(task: TaskNode, p: PreparedStage, inputs: KeyComponents['inputs']): KeyComponents {
    return {
      stage: task.stage.name,
      code: p.code.code,
      files: p.code.files,
      params: task.params,
      inputs,
      runtime: p.runtime,
      axes: task.axes,
      ...(task.stage.perExperiment ? { experiment: this.experiment } : {}),
      ...(task.stage.perExperiment && Object.keys(this.variant.overrides).length ? { overrides: this.variant.overrides } : {}),
    };
  }

  /**
   * The store's lookup of `key` for a task of `stage` (see Store.lookup; `repair`: a run holding
   * the task's lock sets bad records and corrupt blobs aside); a miss other than 'absent' is
   * told once as a diagnostic.
   */
  async lookup(key: TaskKey, taskId: string, stage?: StageDecl, repair = false): Promise<Lookup<RecordSummary>> {
    const found = await this.store.lookupIndexed(key, this.experiment, { repair, ...(stage ? { stage } : {}) });
    if (!found.hit) this.tell(found.miss, taskId);
    return found;
  }

  /**
   * Whether a blob a task is about to read is intact (Store blobs.verify: in this process, by
   * verified.tsv with its file unchanged, or hashed). One gone, or corrupt (then set aside), is
   * told once by name as an output of `producerId`, which the caller recomputes.
   */
  async inputIntact(producerId: string, output: string, hash: string): Promise<boolean> {
    const v = await this.store.blobs.verify(hash);
    if (v === 'ok') return true;
    if (v === 'missing') this.tell({ why: 'missing-blob', output, path: this.store.blobs.path(hash) }, producerId);
    else {
      if (!this.store.readOnly) await this.store.blobs.quarantine(hash);
      this.tell({ why: 'corrupt-blob', output, error: v }, producerId);
    }
    return false;
  }

  /** The store's lookupNow for this experiment: a hit or 'absent' found without waiting, else undefined. */
  lookupNow(key: TaskKey, stage?: StageDecl, verify = false): Lookup<RecordSummary> | undefined {
    return this.store.lookupNow(key, this.experiment, stage, verify);
  }

  /** A record as it is, outputs unchecked (a task's previous one, for stale reasons); a bad one is told. */
  record(key: TaskKey): TaskRecord | undefined {
    const r = this.store.records.load(key);
    if (r.state === 'bad') this.tell({ why: 'bad-record', path: r.path, problem: r.problem }, '');
    return r.state === 'ok' ? r.record : undefined;
  }

  private tell(miss: Miss, taskId: string): void {
    switch (miss.why) {
      case 'absent':
        return;
      case 'bad-record': {
        const fate = this.store.readOnly ? `\`${this.project.name} run\` will set it aside and recompute its task` : `set aside in ${this.store.area('quarantine')}/ and recomputed`;
        return this.diagnostics.warn(miss.path, `invalid task record ${miss.path}: ${miss.problem}; ${fate}`);
      }
      case 'missing-blob':
        return this.diagnostics.warn(miss.path, `${taskId}: output '${miss.output}': blob ${miss.path} is missing; recomputing`);
      case 'corrupt-blob':
        return this.diagnostics.warn(miss.error.blobPath, `${taskId}: output '${miss.output}': ${miss.error.message}; recomputing`);
    }
  }

  /** Everything a task's record holds that is known before it runs. */
  recordTemplate(task: TaskNode, r: Resolved): RecordTemplate {
    return {
      key: r.key,
      id: task.id,
      stage: task.stage.name,
      experiment: this.experiment,
      axes: task.axes,
      params: task.params,
      inputs: r.components.inputs,
      code: r.components.code,
      files: r.components.files,
      runtime: r.components.runtime,
      versions: { node: process.version, project: this.project.name },
      status: 'ok',
    };
  }

  newRecord(task: TaskNode, r: Resolved, outputs: Record<string, OutputEntry>, started: number, logs: string[], resources?: TaskResources): TaskRecord {
    return completeRecord(this.recordTemplate(task, r), outputs, started, logs, { resources });
  }
}

// Where a record is completed: record.ts (a worker writes its task's record, without the planner).
export { completeRecord, type RecordTemplate } from './record.ts';

/** The `inputs` key component: upstream task id -> output name -> blob hash, of the outputs `task` reads. */
function inputsOf(task: TaskNode, outputsOf: (dep: TaskNode) => Record<string, OutputEntry>): KeyComponents['inputs'] {
  const inputs: KeyComponents['inputs'] = {};
  for (const dep of task.deps) {
    const outs: Record<string, string> = {};
    const all = outputsOf(dep);
    const names = task.reads.get(dep);
    for (const name in all) if (Object.hasOwn(all, name) && (!names || names.includes(name))) outs[name] = all[name]!.hash;
    inputs[dep.id] = outs;
  }
  return inputs;
}

/**
 * canonicalJson(inputsOf(task, outputsOf)), written straight from the deps' outputs: ids and
 * output names sorted by code unit, a dep listed twice counted once (its last reads), as the
 * object would have it (test/engine/graph.test.ts compares the two).
 */
function inputsText(task: TaskNode, outputsOf: (dep: TaskNode) => Record<string, OutputEntry>): string {
  const { deps } = task;
  if (deps.length === 0) return '{}';
  if (deps.length === 1) return `{${JSON.stringify(deps[0]!.id)}:${outputsText(task, deps[0]!, outputsOf(deps[0]!))}}`;
  const byId = new Map<string, string>();
  for (const dep of deps) byId.set(dep.id, outputsText(task, dep, outputsOf(dep)));
  const ids = [...byId.keys()].sort();
  let text = '{';
  for (let i = 0; i < ids.length; i++) text += `${i ? ',' : ''}${JSON.stringify(ids[i])}:${byId.get(ids[i]!)}`;
  return `${text}}`;
}

function outputsText(task: TaskNode, dep: TaskNode, all: Record<string, OutputEntry>): string {
  const names = task.reads.get(dep);
  const read = Object.keys(all).filter((n) => (!names || names.includes(n)) && all[n]!.hash !== undefined);
  if (read.length > 1) read.sort();
  let text = '{';
  for (let i = 0; i < read.length; i++) text += `${i ? ',' : ''}${JSON.stringify(read[i])}:${canonicalJson(all[read[i]!]!.hash)}`;
  return `${text}}`;
}

/** The outputs of `dep` that `task` declared it reads. */
export function readOutputs<T>(task: TaskNode, dep: TaskNode, all: Record<string, T>): Record<string, T> {
  const names = task.reads.get(dep);
  if (!names) return all;
  return Object.fromEntries(Object.entries(all).filter(([n]) => names.includes(n)));
}

/** Why a task's current key differs from the one it had when last computed. */
export function staleReasons(prev: TaskRecord, now: KeyComponents): string[] {
  const reasons: string[] = [];
  const fmt = (v: JsonObject[string] | undefined): string => (v === undefined ? '(unset)' : canonicalJson(v));
  for (const k of new Set([...Object.keys(prev.params), ...Object.keys(now.params)])) {
    const a = fmt(prev.params[k]);
    const b = fmt(now.params[k]);
    if (a !== b) reasons.push(`param ${k} ${a} -> ${b}`);
  }
  if (prev.code !== now.code) reasons.push(`code of stage ${now.stage} changed`);
  const prevFiles = prev.files ?? {};
  for (const f of new Set([...Object.keys(prevFiles), ...Object.keys(now.files)]))
    if (prevFiles[f] !== now.files[f]) reasons.push(`file ${f} ${!prevFiles[f] ? 'now read' : !now.files[f] ? 'no longer read' : 'changed'}`);
  const inputChanges: { id: string; what: string }[] = [];
  for (const id of new Set([...Object.keys(prev.inputs), ...Object.keys(now.inputs)])) {
    const a = prev.inputs[id];
    const b = now.inputs[id];
    if (!a) inputChanges.push({ id, what: 'added' });
    else if (!b) inputChanges.push({ id, what: 'removed' });
    else if (canonicalJson(a) !== canonicalJson(b)) inputChanges.push({ id, what: 'changed' });
  }
  reasons.push(...summarizeInputs(inputChanges));
  const runtimeKeys = new Set([...Object.keys(prev.runtime), ...Object.keys(now.runtime)]);
  for (const k of runtimeKeys) {
    const a = fmt(prev.runtime[k]);
    const b = fmt(now.runtime[k]);
    if (a !== b) reasons.push(`runtime ${k} ${a} -> ${b}`);
  }
  return reasons.length ? reasons.map(clip) : ['key changed'];
}

const MAX_REASON = 160;
const clip = (s: string): string => (s.length <= MAX_REASON ? s : `${s.slice(0, MAX_REASON - 1)}…`);

/** A few input changes by name; many as counts per upstream stage ("24 inputs of train-a2 changed"). */
function summarizeInputs(changes: { id: string; what: string }[]): string[] {
  if (changes.length <= 3) return changes.map((c) => `input ${c.id} ${c.what}`);
  const groups = new Map<string, number>();
  for (const c of changes) {
    const g = `${c.id.split('@')[0]}\u0000${c.what}`;
    groups.set(g, (groups.get(g) ?? 0) + 1);
  }
  return [...groups].map(([g, n]) => {
    const [stage, what] = g.split('\u0000');
    return `${n} input${n === 1 ? '' : 's'} of ${stage} ${what}`;
  });
}
