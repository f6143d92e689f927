// Stage declarations + an experiment config -> the task graph: matrix fan-out, readable ids,
// upstream matching, topological order, cycle detection.
import { ConfigError, GraphError } from './errors.ts';
import { didYouMean } from './suggest.ts';
import { canonicalJson } from './fingerprint.ts';
import { getPath } from './config.ts';
import type { AxisSpec, Json, JsonObject, NeedSpec, StageDecl } from './types.ts';

export { GraphError } from './errors.ts';

export interface TaskNode {
  id: string;
  stage: StageDecl;
  axes: JsonObject;
  params: JsonObject;
  /** Upstream tasks, in stage-need order. */
  deps: TaskNode[];
  /** Per upstream task: the output names this task reads (undefined: all). */
  reads: Map<TaskNode, string[] | undefined>;
  dependents: TaskNode[];
}

export interface TaskGraph {
  /** Topologically ordered (every task after all of its deps). */
  tasks: TaskNode[];
  byId: Map<string, TaskNode>;
  stages: StageDecl[];
}

/** Orders stages so every stage comes after the stages it needs; names the cycle if there is one. */
export function orderStages(stages: StageDecl[]): StageDecl[] {
  const byName = new Map(stages.map((s) => [s.name, s]));
  for (const s of stages) {
    if (!/^[a-z][a-z0-9-]*$/.test(s.name)) throw new GraphError(`stage name '${s.name}' must match [a-z][a-z0-9-]*`);
    for (const need of s.needs ?? [])
      if (!byName.has(need.stage)) throw new GraphError(`stage '${s.name}' needs unknown stage '${need.stage}'`);
  }
  if (byName.size !== stages.length) throw new GraphError('two stages share a name');
  const ordered: StageDecl[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: StageDecl, trail: string[]): void => {
    const st = state.get(s.name);
    if (st === 'done') return;
    if (st === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(s.name)), s.name];
      throw new GraphError(`stages form a cycle: ${cycle.join(' -> ')}`);
    }
    state.set(s.name, 'visiting');
    for (const need of s.needs ?? []) visit(byName.get(need.stage)!, [...trail, s.name]);
    state.set(s.name, 'done');
    ordered.push(s);
  };
  for (const s of stages) visit(s, []);
  return ordered;
}

function axisValues(stage: StageDecl, axis: string, spec: AxisSpec | string, config: JsonObject): Json[] {
  const norm: AxisSpec = typeof spec === 'string' ? { key: spec } : spec;
  if (norm.values) return norm.values;
  if (!norm.key) throw new GraphError(`stage '${stage.name}': matrix axis '${axis}' has neither key nor values`);
  const v = getPath(config, norm.key);
  if (!Array.isArray(v))
    throw new GraphError(
      `stage '${stage.name}': matrix axis '${axis}' reads config key '${norm.key}', expected a list, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
    );
  return v;
}

/**
 * An empty config list empties the whole grid. When every config list of the grid is empty the
 * stage is meant to have no tasks (an experiment that skips a protocol); one empty list beside
 * non-empty ones silently drops every task, which is a mistake, so it is an error naming the key.
 */
function checkEmptyLists(stage: StageDecl, lists: { axis: string; axisSpec: AxisSpec | string; values: Json[] }[]): void {
  const keyOf = (s: AxisSpec | string): string | undefined => (typeof s === 'string' ? s : s.values ? undefined : s.key);
  const fromConfig = lists.filter((l) => keyOf(l.axisSpec) !== undefined);
  const empty = fromConfig.filter((l) => l.values.length === 0);
  if (!empty.length || empty.length === fromConfig.length) return;
  const keys = empty.map((l) => `'${keyOf(l.axisSpec)}'`).join(', ');
  const others = fromConfig.filter((l) => l.values.length > 0).map((l) => keyOf(l.axisSpec)).join(', ');
  throw new GraphError(
    `config ${keys}: empty list, so stage '${stage.name}' would have no tasks although ${others} ${fromConfig.length - empty.length > 1 ? 'are' : 'is'} not empty; give it at least one value, or empty all of them to skip the stage`,
  );
}

function label(value: Json, prefix = ''): string {
  return prefix + (typeof value === 'string' ? value : canonicalJson(value));
}

/**
 * A value as a lookup key: canonical JSON, with strings and finite numbers (the usual axis
 * values) told apart by a leading character instead of serialized.
 */
function valueKey(v: Json | undefined): string {
  if (typeof v === 'string') return `s${v}`;
  if (typeof v === 'number' && Number.isFinite(v)) return `n${v}`;
  return v === undefined ? 'u' : `j${canonicalJson(v)}`;
}

function expandMatrix(stage: StageDecl, config: JsonObject): { axes: JsonObject; id: string }[] {
  const specs = stage.matrix === undefined ? [{}] : Array.isArray(stage.matrix) ? stage.matrix : [stage.matrix];
  const out = new Map<string, { axes: JsonObject; id: string }>();
  for (const spec of specs) {
    const lists = Object.entries(spec).map(([axis, axisSpec]) => ({ axis, axisSpec, values: axisValues(stage, axis, axisSpec, config) }));
    checkEmptyLists(stage, lists);
    // Each axis's labels once (not per combination), and ids joined from them.
    let combos: { axes: JsonObject; id: string }[] = [{ axes: {}, id: '' }];
    for (const { axis, axisSpec, values } of lists) {
      const prefix = typeof axisSpec === 'string' ? '' : (axisSpec.prefix ?? '');
      const labels = values.map((v) => label(v, prefix));
      const next: { axes: JsonObject; id: string }[] = [];
      for (const c of combos)
        for (let i = 0; i < values.length; i++) next.push({ axes: { ...c.axes, [axis]: values[i]! }, id: c.id ? `${c.id},${labels[i]}` : labels[i]! });
      combos = next;
    }
    for (const c of combos) {
      c.id = lists.length ? `${stage.name}@${c.id}` : stage.name;
      const prev = out.get(c.id);
      if (prev && canonicalJson(prev.axes) !== canonicalJson(c.axes))
        throw new GraphError(`stage '${stage.name}': two matrix points share the id '${c.id}'; give the axes prefixes`);
      out.set(c.id, c);
    }
  }
  return [...out.values()];
}

function readParams(stage: StageDecl, config: JsonObject): JsonObject {
  const params: JsonObject = {};
  for (const key of stage.params) {
    const v = getPath(config, key);
    if (v === undefined)
      throw new GraphError(`stage '${stage.name}' reads param '${key}', which the experiment config does not set`);
    params[key] = v;
  }
  return params;
}

/** Matched axis values as one lookup key (valueKey keeps 1 and '1' apart). */
function tupleKey(values: (Json | undefined)[]): string {
  return values.length === 1 ? valueKey(values[0]) : canonicalJson(values.map((v) => v ?? null));
}

/** The `reads` of a task whose needs all read every output: shared, never written to. */
const READS_ALL: Map<TaskNode, string[] | undefined> = new Map();

/** Upstream tasks that share one set of axis names, with their lookups by matched axes. */
interface AxisGroup {
  sig: string;
  axisNames: Set<string>;
  tasks: TaskNode[];
  /** By the upstream axes matched on (joined): matched values -> tasks. */
  maps: Map<string, Map<string, TaskNode[]>>;
}

/** Finds a task's upstream tasks in one stage, through an index on the matched axes. */
class UpstreamIndex {
  private readonly groups: AxisGroup[] = [];
  /** Per `on` (one object per need) and group: the pairs whose upstream axis the group has. */
  private readonly pairsOf = new WeakMap<object, [string, string][][]>();
  /** The lookup each of those pair lists uses (found without joining axis names per task). */
  private readonly mapOf = new WeakMap<object, Map<string, TaskNode[]>>();

  constructor(tasks: TaskNode[]) {
    const bySig = new Map<string, AxisGroup>();
    for (const t of tasks) {
      const sig = Object.keys(t.axes).sort().join('\0');
      let g = bySig.get(sig);
      if (!g) {
        bySig.set(sig, (g = { sig, axisNames: new Set(Object.keys(t.axes)), tasks: [], maps: new Map() }));
        this.groups.push(g);
      }
      g.tasks.push(t);
    }
  }

  private lookup(g: AxisGroup, upAxes: string[]): Map<string, TaskNode[]> {
    const mapKey = upAxes.join('\0');
    let map = g.maps.get(mapKey);
    if (!map) {
      map = new Map();
      for (const t of g.tasks) {
        const k = tupleKey(upAxes.map((a) => t.axes[a]));
        const list = map.get(k);
        if (list) list.push(t);
        else map.set(k, [t]);
      }
      g.maps.set(mapKey, map);
    }
    return map;
  }

  /** The tasks whose `on` axes hold this task's values (not to be changed: it may be the index's own list). */
  match(mine: JsonObject, on: Record<string, string>): readonly TaskNode[] {
    let perGroup = this.pairsOf.get(on);
    if (!perGroup) {
      const entries = Object.entries(on);
      perGroup = this.groups.map((g) => entries.filter(([, up]) => g.axisNames.has(up)));
      this.pairsOf.set(on, perGroup);
    }
    let found: TaskNode[] | undefined;
    for (let gi = 0; gi < this.groups.length; gi++) {
      const g = this.groups[gi]!;
      let pairs = perGroup[gi]!;
      // A pair whose own axis this task lacks (a union of matrices) drops out.
      for (const [my] of pairs)
        if (!(my in mine)) {
          pairs = pairs.filter(([m]) => m in mine);
          break;
        }
      let map = this.mapOf.get(pairs);
      if (!map) this.mapOf.set(pairs, (map = this.lookup(g, pairs.map(([, up]) => up))));
      const hits = map.get(pairs.length === 1 ? valueKey(mine[pairs[0]![0]]) : tupleKey(pairs.map(([my]) => mine[my])));
      if (!hits) continue;
      if (this.groups.length === 1) return hits;
      // Not found.push(...hits): a stage over 100,000 upstream tasks would overflow the call's arguments.
      found ??= [];
      for (const t of hits) found.push(t);
    }
    return found ?? [];
  }
}

function matchingAxes(stage: StageDecl, need: NeedSpec, upstream: StageDecl): Record<string, string> {
  if (need.on) return need.on;
  const mine = new Set(matrixAxisNames(stage));
  const on: Record<string, string> = {};
  for (const a of matrixAxisNames(upstream)) if (mine.has(a)) on[a] = a;
  return on;
}

export function matrixAxisNames(stage: StageDecl): string[] {
  const specs = stage.matrix === undefined ? [] : Array.isArray(stage.matrix) ? stage.matrix : [stage.matrix];
  return [...new Set(specs.flatMap((s) => Object.keys(s)))];
}

export function buildGraph(stages: StageDecl[], config: JsonObject): TaskGraph {
  const steps = graphSteps(stages, config);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * buildGraph in slices, yielding to the event loop between them (every ~20 ms), so a run over a
 * 100,000-task grid still answers Ctrl-C and SIGTERM while it builds the graph.
 */
export async function buildGraphInterruptibly(stages: StageDecl[], config: JsonObject, sliceMs = 20): Promise<TaskGraph> {
  const steps = graphSteps(stages, config);
  let sliceStart = Date.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (Date.now() - sliceStart >= sliceMs) {
      await new Promise((res) => setImmediate(res));
      sliceStart = Date.now();
    }
  }
}

/** The graph, built stage by stage; yields every few hundred tasks (a point to pause at). */
function* graphSteps(stages: StageDecl[], config: JsonObject): Generator<void, TaskGraph> {
  const ordered = orderStages(stages);
  const byStage = new Map<string, TaskNode[]>();
  const indexes = new Map<string, UpstreamIndex>();
  const tasks: TaskNode[] = [];
  const byId = new Map<string, TaskNode>();
  for (const stage of ordered) {
    const params = readParams(stage, config);
    const nodes: TaskNode[] = [];
    // What each need matches on is the same for every task of the stage.
    const needs = (stage.needs ?? []).filter((need) => need.when === undefined || getPath(config, need.when) === true).map((need) => {
      const upstream = ordered.find((s) => s.name === need.stage)!;
      return { need, upstream, on: matchingAxes(stage, need, upstream) };
    });
    for (const { axes, id } of expandMatrix(stage, config)) {
      if (tasks.length % 256 === 0) yield;
      const node: TaskNode = { id, stage, axes, params, deps: [], dependents: [], reads: READS_ALL };
      for (const { need, upstream, on } of needs) {
        let index = indexes.get(need.stage);
        if (!index) indexes.set(need.stage, (index = new UpstreamIndex(byStage.get(need.stage) ?? [])));
        const deps = index.match(axes, on);
        // An upstream stage with no tasks at all (an empty grid in this experiment) is fine;
        // tasks that exist but match nothing are a wiring or config mistake.
        if (deps.length === 0 && (byStage.get(need.stage)?.length ?? 0) > 0)
          throw new GraphError(`task '${id}' needs stage '${need.stage}', but no task of it matches ${JSON.stringify(axes)}`);
        for (const out of need.outputs ?? [])
          if (!upstream.outputs[out]) throw new GraphError(`stage '${stage.name}' reads output '${out}' of stage '${need.stage}', which has outputs: ${Object.keys(upstream.outputs).join(', ')}`);
        // A Map per task only where a need names the outputs it reads (absent: all of them).
        if (need.outputs && node.reads === READS_ALL) node.reads = new Map();
        // Arrays of their size where one need gives all deps, or a task has one dependent so far
        // (an empty array's first push reserves 17 slots: 100,000 tasks' worth of garbage).
        if (node.deps.length === 0) node.deps = deps.slice();
        else for (const d of deps) node.deps.push(d);
        for (const d of deps) {
          if (node.reads !== READS_ALL) node.reads.set(d, need.outputs);
          if (d.dependents.length === 0) d.dependents = [node];
          else d.dependents.push(node);
        }
      }
      nodes.push(node);
      tasks.push(node);
      byId.set(id, node);
    }
    // A stage's own checks of its params against each other (found here, at plan time, not by its
    // first task); only for a stage this experiment runs.
    const problem = nodes.length ? stage.checkParams?.(params) : null;
    if (problem) throw new ConfigError(`stage '${stage.name}': ${problem}`);
    byStage.set(stage.name, nodes);
  }
  return { tasks, byId, stages: ordered };
}

/** `seeds` and every task upstream of them. */
export function withUpstream(seeds: Iterable<TaskNode>): Set<TaskNode> {
  const keep = new Set<TaskNode>();
  const stack = [...seeds];
  while (stack.length) {
    const t = stack.pop()!;
    if (keep.has(t)) continue;
    keep.add(t);
    // A loop, not push(...deps): a task over 100,000 inputs would overflow the call's arguments.
    for (const d of t.deps) stack.push(d);
  }
  return keep;
}

/** One task and everything upstream of it, in topological order (the task last). */
export function taskClosure(graph: TaskGraph, task: TaskNode): TaskNode[] {
  const keep = withUpstream([task]);
  return graph.tasks.filter((t) => keep.has(t));
}

/** The named stages' tasks plus everything upstream of them, in topological order. */
export function selectClosure(graph: TaskGraph, stageNames: string[]): TaskNode[] {
  if (stageNames.length === 0) return graph.tasks;
  for (const n of stageNames)
    if (!graph.stages.some((s) => s.name === n))
      throw new GraphError(`unknown stage '${n}'${didYouMean(n, graph.stages.map((s) => s.name))} (stages: ${graph.stages.map((s) => s.name).join(', ')})`);
  const keep = withUpstream(graph.tasks.filter((t) => stageNames.includes(t.stage.name)));
  return graph.tasks.filter((t) => keep.has(t));
}
