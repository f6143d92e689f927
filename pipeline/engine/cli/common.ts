// What the commands share: the common flags, loading an experiment (or a variant the store has
// run), the store and planner a command works with, and printing.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { loadExperiment, parseSetFlag, type LoadedExperiment } from '../config.ts';
import { planDigest, prove, readPlan, writePlan, type ProvenPlan } from '../proven-plan.ts';
import type { RunSummary } from '../scheduler.ts';
import { canonicalJson } from '../fingerprint.ts';
import { describeError, UsageError } from '../errors.ts';
import { executorNames, runtimeOf } from '../executors/registry.ts';
import { collect } from '../flags.ts';
import { buildGraph, buildGraphInterruptibly, taskClosure, type TaskGraph, type TaskNode } from '../graph.ts';
import { inspectTasks } from '../inspect.ts';
import { Planner } from '../planner.ts';
import { checkRuntimes } from '../preflight.ts';
import { envName, envValue } from '../project-env.ts';
import { openStore, storeDirOf, takeStoreNotes } from '../store-check.ts';
import { Store } from '../store.ts';
import { didYouMean } from '../suggest.ts';
import type { Json, Project, RuntimeTarget } from '../types.ts';
import { variantOf, type Variant } from '../variant.ts';

export interface CommonOpts {
  experiment: string;
  set: string[];
  name?: string;
  json?: boolean;
}

/**
 * The store, checked up front; 'read' (status, show, why, results, diff) never creates or changes
 * anything. The default is relative to the project root, never to the working directory.
 */
export function storeFor(project: Project, mode: 'read' | 'write'): Promise<Store> {
  return openStore(project.cacheEnvVar, defaultStoreDir(project), mode, project.name);
}

const defaultStoreDir = (project: Project): string => path.resolve(project.root, project.defaultCacheDir);

/** The project's declared version, else its package.json's, else 'unknown'. */
export function projectVersion(project: Project): string {
  if (project.version) return project.version;
  try {
    return (JSON.parse(readFileSync(path.join(project.root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function experimentNames(project: Project): string[] {
  try {
    return readdirSync(project.experimentsDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

export interface Loaded {
  exp: LoadedExperiment;
  variant: Variant;
  graph: TaskGraph;
}

/** The value at a dot path of a config, or undefined. */
function valueAt(config: Json, keys: readonly string[]): Json | undefined {
  let v: Json | undefined = config;
  for (const k of keys) v = v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, k) ? v[k] : undefined;
  return v;
}

/**
 * The --set flags that change something: one whose value equals the experiment's own (or its
 * default) makes no variant, so the run is the experiment itself and publishes as such.
 */
function effectiveSets(project: Project, experiment: string, sets: string[]): string[] {
  if (!sets.length) return sets;
  const base = loadExperiment(experiment, project.experimentsDir, project.experimentSchema, []).config;
  return sets.filter((flag) => {
    const { path: keys, value } = parseSetFlag(flag);
    const now = valueAt(base, keys);
    return now === undefined || canonicalJson(now) !== canonicalJson(value);
  });
}

function loadVariant(project: Project, experiment: string, allSets: string[], name?: string): Loaded {
  const sets = effectiveSets(project, experiment, allSets);
  const exp = loadExperiment(experiment, project.experimentsDir, project.experimentSchema, sets);
  const variant = variantOf(exp.name, sets, name, experimentNames(project));
  return { exp, variant, graph: buildGraph(project.stages, exp.config) };
}

export function load(project: Project, o: CommonOpts): Loaded {
  return loadVariant(project, o.experiment, o.set, o.name);
}

/** The experiment and variant `load` would give, without building the graph. */
export function loadConfig(project: Project, o: CommonOpts): Omit<Loaded, 'graph'> {
  const sets = effectiveSets(project, o.experiment, o.set);
  const exp = loadExperiment(o.experiment, project.experimentsDir, project.experimentSchema, sets);
  return { exp, variant: variantOf(exp.name, sets, o.name, experimentNames(project)) };
}

/** `load` for `run`: the graph is built in slices, so a huge grid can still be interrupted. */
export async function loadInterruptibly(project: Project, o: CommonOpts, config = loadConfig(project, o)): Promise<Loaded> {
  return { ...config, graph: await buildGraphInterruptibly(project.stages, config.exp.config) };
}

/**
 * The store's plan of this experiment and selection proven all cached (proven-plan.ts), with
 * the planner that proved it; else that planner alone (its store opened and checked, for the
 * planned command to reuse), or nothing when there was no plan file to try. Any error on the way
 * (a stage runtime that no longer resolves, a store that cannot be opened) is left to the planned
 * command to report, since a plan file is only a shortcut.
 */
export async function provenPlanFor(project: Project, loaded: Omit<Loaded, 'graph'>, selection: string[], mode: 'read' | 'write', where?: RuntimeTarget, executor?: string): Promise<{ planner: Planner; plan?: ProvenPlan } | undefined> {
  // Read before the store is opened (checked, created for a run): the plan names the stages whose runtimes are checked first.
  const file = readPlan(new Store(storeDirOf(project.cacheEnvVar, defaultStoreDir(project)), { readOnly: true }), project.stages, loaded.variant.name);
  if (!file) return undefined;
  let planner: Planner;
  try {
    planner = await plannerFor(project, loaded.variant, file.stages.map((stage) => ({ stage })), mode, undefined, where, executor);
  } catch {
    takeStoreNotes();
    return undefined;
  }
  const plan = await prove(planner, file, await planDigest(planner, loaded.exp, selection, file.stages));
  return plan ? { planner, plan } : { planner };
}

/**
 * Leaves the plan of a run whose every task ended cached or built in the store, for the next
 * no-op to prove (proven-plan.ts). A plan that cannot be written is only a slower no-op next time.
 */
export async function keepPlan(planner: Planner, exp: LoadedExperiment, selection: string[], graph: TaskGraph, tasks: TaskNode[], results: RunSummary['tasks']): Promise<void> {
  if (planner.store.readOnly || results.some((r) => r.state !== 'cached' && r.state !== 'executed')) return;
  const used = new Set(tasks.map((t) => t.stage));
  const stages = graph.stages.filter((s) => used.has(s));
  try {
    writePlan(planner, await planDigest(planner, exp, selection, stages), stages, tasks, results);
  } catch (e) {
    process.stderr.write(`warning: cannot keep this run's plan in the store (the next no-op plans in full): ${describeError(e)}\n`);
  }
}

/**
 * After the environment checks that belong before anything runs (stage runtimes, the store).
 * `where` given (run): checked before the store is opened. Omitted (read commands): the
 * executor is the one readExecutor picks, which may come from the store.
 */
export async function plannerFor(project: Project, variant: Variant, tasks: readonly Pick<TaskNode, 'stage'>[], mode: 'read' | 'write', store?: Store, where?: RuntimeTarget, executor?: string): Promise<Planner> {
  if (where) await checkRuntimes(tasks, where);
  const s = store ?? (await storeFor(project, mode));
  const w = where ?? runtimeOf(readExecutor(project, s, variant.name, executor));
  const planner = new Planner(project, s, variant, w);
  if (!where) {
    try {
      await checkRuntimes(tasks, w, planner.runtimeContext);
    } catch (e) {
      // An up-front problem (a bad backend) stays the only line: nothing was read from the store yet.
      takeStoreNotes();
      throw e;
    }
  }
  return planner;
}

/** A planner keying as the experiment's last run did, without the up-front checks (experiments, diff). */
export function readPlanner(project: Project, store: Store, variant: Variant): Planner {
  return new Planner(project, store, variant, runtimeOf(readExecutor(project, store, variant.name)));
}

/**
 * The executor whose keys a read command (status, why, show, results, experiments) computes:
 * --executor, else the environment's, else the one the experiment's last run used, else local.
 * So `status` after a run on another executor finds what that run built.
 */
function readExecutor(project: Project, store: Store, experiment: string, flag?: string): string {
  return flag ?? envValue(project, 'EXECUTOR') ?? store.index.executor(experiment) ?? 'local';
}

/** --executor on a read command. */
export function executorOption(cmd: Command, project: Project): Command {
  return cmd.addOption(new Option('--executor <kind>', `compute the keys a run with this executor would (default: $${envName(project, 'EXECUTOR')}, else the executor of the experiment's last run)`).choices(executorNames()));
}

/** An experiment name or file, or a variant this store has run (`quick+1a2b3c4d`). */
export function loadNamed(project: Project, store: Store, name: string, extraSets: string[] = []): Loaded {
  const v = store.index.variant(name);
  if (v && !experimentNames(project).includes(name)) {
    const sets = [...Object.entries(v.overrides).map(([k, val]) => `${k}=${JSON.stringify(val)}`), ...extraSets];
    return loadVariant(project, v.base, sets, extraSets.length || name.includes('+') ? undefined : name);
  }
  return loadVariant(project, name, extraSets);
}

/** The planner's diagnostics (bad records, corrupt blobs), one line each on stderr. */
export function warn(planner: Planner): void {
  for (const w of planner.warnings) process.stderr.write(`warning: ${w}\n`);
}

function findTask(graph: TaskGraph, id: string): TaskNode {
  const t = graph.byId.get(id);
  if (t) return t;
  throw new UsageError(`no task '${id}' in this experiment${didYouMean(id, [...graph.byId.keys()])}`);
}

/** One task with everything upstream of it, inspected (why, show); `mine` is the task's own status. */
export async function inspectOne(project: Project, o: CommonOpts & { executor?: string }, id: string) {
  const { graph, variant } = load(project, o);
  const task = findTask(graph, id);
  const closure = taskClosure(graph, task);
  const planner = await plannerFor(project, variant, closure, 'read', undefined, undefined, o.executor);
  const st = await inspectTasks(planner, closure);
  warn(planner);
  return { task, planner, st, mine: st.at(-1)! };
}

export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  const out = json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`;
  // A megabyte at a time: 100,000 tasks are 17 MB of JSON, and one buffer of it costs more to
  // fill (fresh memory) than the writes.
  for (let i = 0; i < out.length; i += PRINT_CHUNK) process.stdout.write(out.length <= PRINT_CHUNK ? out : out.slice(i, i + PRINT_CHUNK));
}
const PRINT_CHUNK = 1 << 20;

export const rel = (p: string): string => {
  const r = path.relative(process.cwd(), p);
  return r.startsWith('..') ? p : r || '.';
};

export type Counted = { stage: string; tasks: number } & Record<string, number | string>;

/** Per stage, in DAG order: how many tasks are in each state. */
export function perStage(graph: Pick<TaskGraph, 'stages'>, rows: readonly { stage: string; state: string }[], states: readonly string[]): Counted[] {
  // One pass over the rows (not one per stage and state).
  const counts = new Map<string, Counted>();
  for (const s of graph.stages) {
    const c: Counted = { stage: s.name, tasks: 0 };
    for (const st of states) c[st] = 0;
    counts.set(s.name, c);
  }
  for (const r of rows) {
    const c = counts.get(r.stage);
    if (!c) continue;
    c.tasks++;
    if (states.includes(r.state)) c[r.state] = (c[r.state] as number) + 1;
  }
  return [...counts.values()].filter((c) => c.tasks > 0);
}

export function stageTable(counts: readonly Counted[], states: readonly string[]): string {
  const w = Math.max(5, ...counts.map((c) => c.stage.length));
  const head = `${'stage'.padEnd(w)}  ${'tasks'.padStart(6)}${states.map((s) => `  ${s.padStart(8)}`).join('')}`;
  return [head, ...counts.map((c) => `${c.stage.padEnd(w)}  ${String(c.tasks).padStart(6)}${states.map((s) => `  ${String(c[s]).padStart(8)}`).join('')}`)].join('\n');
}

export function commonOptions(cmd: Command, project: Project): Command {
  return cmd
    .option('-e, --experiment <name|file>', 'experiment config name or JSON file', project.defaultExperiment)
    .option('--set <key=value>', 'override a config value (repeatable); the run becomes a variant with its own name', collect, [])
    .option('--name <variant>', 'name the variant made by --set (default: <experiment>+<hash of the overrides>)')
    .option('--json', 'machine-readable output on stdout');
}
