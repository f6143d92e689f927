// The engine's command line, for any Project: run, status, why, show, dag, experiments, results,
// diff, gc, version. Every command takes --json; usage and config errors exit 2 with one line.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadExperiment, type LoadedExperiment } from './config.ts';
import { buildGraph, GraphError, selectClosure, taskClosure, type TaskGraph, type TaskNode } from './graph.ts';
import { brief, inspectTasks, type TaskStatus } from './inspect.ts';
import { Planner } from './planner.ts';
import { makeReporter } from './reporter.ts';
import { collectMetrics, diffConfigs, diffMetrics, formatTable } from './results.ts';
import { runTasks, type RunSummary } from './scheduler.ts';
import { collectGarbage, type GcReport } from './gc.ts';
import { checkRuntimes } from './preflight.ts';
import { openStore, SetupError } from './store-check.ts';
import type { Store } from './store.ts';
import { renderDag, type DagFormat } from './dag-format.ts';
import { didYouMean } from './suggest.ts';
import { describeOverrides, variantOf, type Variant } from './variant.ts';
import { checkSlurm, DEFAULT_POLL_MS, SlurmExecutor, sbatchResourceArgs, type SlurmOptions } from './slurm.ts';
import type { Project, RuntimeTarget } from './types.ts';
import { envName, envValue } from './project-env.ts';

interface CommonOpts {
  experiment: string;
  set: string[];
  name?: string;
  json?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
};

class UsageError extends Error {}

/**
 * The store, checked up front; 'read' (status, show, why, results, diff) never creates or changes
 * anything. The default is relative to the project root, never to the working directory.
 */
function storeFor(project: Project, mode: 'read' | 'write'): Promise<Store> {
  return openStore(project.cacheEnvVar, path.resolve(project.root, project.defaultCacheDir), mode, project.name);
}

/** The project's declared version, else its package.json's, else 'unknown'. */
function projectVersion(project: Project): string {
  if (project.version) return project.version;
  try {
    return (JSON.parse(readFileSync(path.join(project.root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

interface RunFlags {
  force: string[];
  dryRun?: boolean;
  verbose?: boolean;
  jobs: number;
  executor?: string;
  partition?: string;
  account?: string;
  time?: string;
  gres?: string;
  mem?: string;
  sbatch: string[];
  pollMs?: number;
}

/** `run --executor slurm --dry-run`: the arrays a run would submit now, per stage, with resources. */
async function slurmPlan(planner: Planner, graph: TaskGraph, counts: readonly Counted[], o: SlurmOptions) {
  const out: { stage: string; jobs: number; sbatch: string[]; gpus: number; gpuHours?: number; estimate?: string }[] = [];
  for (const c of counts) {
    const stage = graph.stages.find((s) => s.name === c.stage)!;
    const n = Number(c.run);
    if (!n) continue;
    const res = stage.resources?.(await planner.stageRuntime(stage)) ?? {};
    const row: (typeof out)[number] = { stage: stage.name, jobs: n, sbatch: sbatchResourceArgs(res, o), gpus: res.gpus ?? 0 };
    // Shown for every stage that can estimate itself: the submit host rarely has the GPU backend.
    if (stage.estimateSeconds) {
      const tasks = graph.tasks.filter((t) => t.stage === stage);
      const e = stage.estimateSeconds(tasks.map((t) => ({ params: t.params, axes: t.axes })));
      row.gpuHours = (e.seconds * Math.max(1, res.gpus ?? 1) * (n / tasks.length)) / 3600;
      row.estimate = e.basis;
    }
    out.push(row);
  }
  return out;
}

function experimentNames(project: Project): string[] {
  try {
    return readdirSync(project.experimentsDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

interface Loaded {
  exp: LoadedExperiment;
  variant: Variant;
  graph: TaskGraph;
}

function loadVariant(project: Project, experiment: string, sets: string[], name?: string): Loaded {
  const exp = loadExperiment(experiment, project.experimentsDir, project.experimentSchema, sets);
  const variant = variantOf(exp.name, sets, name, experimentNames(project));
  return { exp, variant, graph: buildGraph(project.stages, exp.config) };
}

function load(project: Project, o: CommonOpts): Loaded {
  return loadVariant(project, o.experiment, o.set, o.name);
}

/**
 * After the environment checks that belong before anything runs (stage runtimes, the store).
 * `where` given (run): checked before the store is opened. Omitted (read commands): the
 * executor is the one readExecutor picks, which may come from the store.
 */
async function plannerFor(project: Project, variant: Variant, tasks: TaskNode[], mode: 'read' | 'write', store?: Store, where?: RuntimeTarget, executor?: string): Promise<Planner> {
  if (where) await checkRuntimes(tasks, where);
  const s = store ?? (await storeFor(project, mode));
  const w = where ?? runtimeTarget(readExecutor(project, s, variant.name, executor));
  if (!where) await checkRuntimes(tasks, w);
  return new Planner(project, s, variant, w);
}

/** Batch jobs run elsewhere: their keys take the runtime that is requested, not this host's. */
function runtimeTarget(executor: string): RuntimeTarget {
  return executor === 'slurm' ? 'remote' : 'local';
}

/**
 * The executor whose keys a read command (status, why, show, results, experiments) computes:
 * --executor, else the environment's, else the one the experiment's last run used, else local.
 * So `status` after `run --executor slurm` finds what that run built.
 */
function readExecutor(project: Project, store: Store, experiment: string, flag?: string): string {
  return flag ?? envValue(project, 'EXECUTOR') ?? store.index.executor(experiment) ?? 'local';
}

/** --executor on a read command. */
function executorOption(cmd: Command, project: Project): Command {
  return cmd.addOption(new Option('--executor <kind>', `compute the keys a run with this executor would (default: $${envName(project, 'EXECUTOR')}, else the executor of the experiment's last run)`).choices(['local', 'slurm']));
}

/** An experiment name or file, or a variant this store has run (`quick+1a2b3c4d`). */
function loadNamed(project: Project, store: Store, name: string, extraSets: string[] = []): Loaded {
  const v = store.index.variant(name);
  if (v && !experimentNames(project).includes(name)) {
    const sets = [...Object.entries(v.overrides).map(([k, val]) => `${k}=${JSON.stringify(val)}`), ...extraSets];
    return loadVariant(project, v.base, sets, extraSets.length || name.includes('+') ? undefined : name);
  }
  return loadVariant(project, name, extraSets);
}

function warn(planner: Planner): void {
  for (const w of planner.warnings) process.stderr.write(`warning: ${w}\n`);
}

function findTask(graph: TaskGraph, id: string): TaskNode {
  const t = graph.byId.get(id);
  if (t) return t;
  throw new UsageError(`no task '${id}' in this experiment${didYouMean(id, [...graph.byId.keys()])}`);
}

/** One task with everything upstream of it, inspected (why, show); `mine` is the task's own status. */
async function inspectOne(project: Project, o: CommonOpts & { executor?: string }, id: string) {
  const { graph, variant } = load(project, o);
  const task = findTask(graph, id);
  const closure = taskClosure(graph, task);
  const planner = await plannerFor(project, variant, closure, 'read', undefined, undefined, o.executor);
  const st = await inspectTasks(planner, closure);
  warn(planner);
  return { task, planner, st, mine: st.at(-1)! };
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

const rel = (p: string): string => {
  const r = path.relative(process.cwd(), p);
  return r.startsWith('..') ? p : r || '.';
};

function summaryText(s: RunSummary): string {
  const lines = [
    `${s.experiment}: executed ${s.executed}, cached ${s.cached}, failed ${s.failed}, skipped ${s.skipped}${s.interrupted ? `, interrupted ${s.interrupted}` : ''} in ${(s.durationMs / 1000).toFixed(1)}s`,
  ];
  const failed = s.tasks.filter((t) => t.state === 'failed');
  if (failed.length) {
    lines.push('failed:');
    for (const t of failed) lines.push(`  ${t.id}: ${t.error ?? ''}`);
    const skipped = s.tasks.filter((t) => t.state === 'skipped').length;
    if (skipped) lines.push(`${skipped} task(s) downstream of a failure were skipped`);
  }
  for (const p of s.published) lines.push(`published: ${rel(p)}`);
  return lines.join('\n');
}

type Counted = { stage: string; tasks: number } & Record<string, number | string>;

/** Per stage, in DAG order: how many tasks are in each state. */
function perStage(graph: TaskGraph, rows: readonly { stage: string; state: string }[], states: readonly string[]): Counted[] {
  return graph.stages
    .map((s) => {
      const mine = rows.filter((r) => r.stage === s.name);
      const c: Counted = { stage: s.name, tasks: mine.length };
      for (const st of states) c[st] = mine.filter((r) => r.state === st).length;
      return c;
    })
    .filter((c) => c.tasks > 0);
}

function stageTable(counts: readonly Counted[], states: readonly string[]): string {
  const w = Math.max(5, ...counts.map((c) => c.stage.length));
  const head = `${'stage'.padEnd(w)}  ${'tasks'.padStart(6)}${states.map((s) => `  ${s.padStart(8)}`).join('')}`;
  return [head, ...counts.map((c) => `${c.stage.padEnd(w)}  ${String(c.tasks).padStart(6)}${states.map((s) => `  ${String(c[s]).padStart(8)}`).join('')}`)].join('\n');
}

function commonOptions(cmd: Command, project: Project): Command {
  return cmd
    .option('-e, --experiment <name|file>', 'experiment config name or JSON file', project.defaultExperiment)
    .option('--set <key=value>', 'override a config value (repeatable); the run becomes a variant with its own name', collect, [])
    .option('--name <variant>', 'name the variant made by --set (default: <experiment>+<hash of the overrides>)')
    .option('--json', 'machine-readable output on stdout');
}

function announceVariant(v: Variant): void {
  if (Object.keys(v.overrides).length)
    process.stderr.write(`variant '${v.name}' of '${v.base}' (${describeOverrides(v.overrides)}): its own index and published files\n`);
}

async function keysToKeep(project: Project, store: Store, names: string[]): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const name of names) {
    const { graph, variant } = loadNamed(project, store, name);
    const planner = await plannerFor(project, variant, graph.tasks, 'read', store);
    for (const st of await inspectTasks(planner, graph.tasks)) if (st.state === 'cached' && st.key) keep.add(st.key);
  }
  return keep;
}

function gcText(r: GcReport, dir: string, keeping: boolean): string {
  const mb = (r.removedBytes / 1e6).toFixed(1);
  const lines: string[] = [];
  const records = keeping || r.removedRecords ? ` and ${r.removedRecords} record(s)` : '';
  const slurm = r.removedSlurm ? `, ${r.removedSlurm} SLURM job file(s)` : '';
  if (r.dryRun) {
    lines.push(...r.removed.map((p) => `would remove ${p}`));
    lines.push(`gc --dry-run: would remove ${r.removedBlobs} blob(s) (${mb} MB), ${r.removedTmp} temp file(s)${records}${slurm}; would keep ${r.keptBlobs} blob(s) in ${dir}`);
  } else if (!r.blockedBy.length) {
    lines.push(`gc: removed ${r.removedBlobs} blob(s) (${mb} MB), ${r.removedTmp} temp file(s)${records}${slurm}; kept ${r.keptBlobs} blob(s) in ${dir}`);
  }
  if (r.slurmSkipped) lines.push(`gc: ${r.slurmSkipped}`);
  if (r.blockedBy.length)
    lines.push(`gc: ${r.blockedBy.length} run(s) in progress on this store (${r.blockedBy.map((l) => `pid ${l.pid} on ${l.host} since ${l.startedAt}`).join(', ')}): nothing removed${r.dryRun ? '' : '; run gc again when they end'}`);
  return lines.join('\n');
}

export function buildCli(project: Project): Command {
  const program = new Command(project.name)
    .description(`${project.name}: a content-hashed, cached pipeline of stages`)
    .exitOverride()
    // Usage errors are one line (no help dump) and exit 2, like every other usage error.
    .configureOutput({ outputError: (str, write) => write(`${project.name}: ${str.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (see --help)\n`) });
  const first = project.stages.at(-1)?.name ?? 'STAGE';
  const examples: [string, string][] = [
    ['run', 'build everything; the published report path is printed last'],
    ['run --dry-run -v', 'what would run, and why'],
    [`status ${first} -v`, 'counts per stage, then each task that is not cached and why'],
    ['run --set <section.key>=<value>', 'a variant, published beside the canonical output'],
    ['results --format csv', 'every metric as one table'],
    [`diff ${project.defaultExperiment} ${project.defaultExperiment} --set <section.key>=<value>`, 'what an override changes'],
    [`gc --keep ${project.defaultExperiment} --dry-run`, 'what a clean-up would remove'],
  ];
  const w = Math.max(...examples.map(([c]) => c.length));
  program.addHelpText('after', `\nExamples:\n${examples.map(([c, d]) => `  $ ${project.name} ${c.padEnd(w)}  ${d}`).join('\n')}`);
  const version = projectVersion(project);
  program.version(`${project.name} ${version}`, '-V, --version', 'print the version');

  program
    .command('version')
    .description('the version of the project and of Node.js')
    .option('--json', 'machine-readable output on stdout')
    .action((o: { json?: boolean }) => {
      const v = { name: project.name, version, node: process.version };
      print(o.json, v, () => `${v.name} ${v.version} (node ${v.node})`);
    });

  commonOptions(program.command('run').argument('[stages...]', 'stages to build (default: all)'), project)
    .description('build what the named stages need; cached tasks are not re-run')
    .option('--force <stage>', 're-run every task of a stage (repeatable)', collect, [])
    .option('-n, --dry-run', 'print the plan per stage, run nothing')
    .option('-v, --verbose', 'with --dry-run: every task and why it runs')
    .addOption(new Option('-j, --jobs <n>', 'tasks at once (local: worker processes; slurm: jobs in the queue, default unlimited)').argParser(positiveInt).default(os.availableParallelism(), 'the number of cores'))
    .addOption(new Option('--executor <kind>', `where tasks run (default: $${envName(project, 'EXECUTOR')} or local)`).choices(['local', 'slurm']))
    .option('--partition <name>', 'slurm: sbatch --partition')
    .option('--account <name>', 'slurm: sbatch --account')
    .option('--time <limit>', "slurm: sbatch --time for every job (default: the stage's own)")
    .option('--gres <spec>', 'slurm: sbatch --gres for every job (default: gpu:N for stages that ask for GPUs)')
    .option('--mem <size>', 'slurm: sbatch --mem for every job')
    .option('--sbatch <arg>', 'slurm: one more sbatch argument (repeatable)', collect, [])
    .addOption(new Option('--poll-ms <ms>', `slurm: milliseconds between queue polls (default: $${envName(project, 'SLURM_POLL_MS')} or ${DEFAULT_POLL_MS})`).argParser(positiveInt))
    .action(async (stages: string[], o: CommonOpts & RunFlags, cmd: Command) => {
      const { graph, variant } = load(project, o);
      const executorKind = o.executor ?? envValue(project, 'EXECUTOR') ?? 'local';
      if (executorKind !== 'local' && executorKind !== 'slurm') throw new UsageError(`$${envName(project, 'EXECUTOR')}=${executorKind}: expected local or slurm`);
      const pollEnv = envValue(project, 'SLURM_POLL_MS');
      let pollMs = o.pollMs;
      if (pollMs === undefined && pollEnv !== undefined) {
        pollMs = Number(pollEnv);
        if (!Number.isInteger(pollMs) || pollMs < 1) throw new UsageError(`$${envName(project, 'SLURM_POLL_MS')}=${pollEnv}: expected a positive integer (milliseconds)`);
      }
      const comment = o.sbatch.find((a) => /^--comment\b/.test(a));
      if (comment) throw new UsageError(`--sbatch=${comment}: the executor sets --comment itself (it finds an array whose sbatch reply was lost by it)`);
      const slurmOpts: SlurmOptions = { partition: o.partition, account: o.account, time: o.time, gres: o.gres, mem: o.mem, extra: o.sbatch, pollMs, jobName: project.name, debug: envValue(project, 'DEBUG') !== undefined };
      for (const f of o.force)
        if (!graph.stages.some((s) => s.name === f)) throw new UsageError(`--force ${f}: no such stage${didYouMean(f, graph.stages.map((s) => s.name))} (stages: ${graph.stages.map((s) => s.name).join(', ')})`);
      const tasks = selectClosure(graph, stages);
      const planner = await plannerFor(project, variant, tasks, o.dryRun ? 'read' : 'write', undefined, runtimeTarget(executorKind));
      if (o.dryRun) {
        const st = await inspectTasks(planner, tasks, new Set(o.force));
        warn(planner);
        const plan = st.map((t) => ({ ...brief(t), action: t.state === 'cached' ? 'use cache' : 'run' }));
        const stagesSummary = perStage(graph, plan.map((p) => ({ stage: p.stage, state: p.action === 'run' ? 'run' : 'cached' })), ['run', 'cached']);
        const jobs = executorKind === 'slurm' ? await slurmPlan(planner, graph, stagesSummary, slurmOpts) : undefined;
        print(o.json, { dryRun: true, experiment: variant.name, executor: executorKind, stages: stagesSummary, ...(jobs ? { slurm: jobs } : {}), tasks: plan }, () =>
          [stageTable(stagesSummary, ['run', 'cached']),
            ...(jobs ? ['slurm jobs (one array per stage; a task is submitted once its inputs exist):', ...jobs.map((j) => `  ${j.stage.padEnd(12)} ${String(j.jobs).padStart(6)} job(s)  sbatch ${j.sbatch.join(' ')}${j.gpuHours !== undefined ? `  ~${j.gpuHours.toFixed(1)} GPU-hours (${j.estimate})` : ''}`)] : []),
            ...(o.verbose ? plan.map((t) => `${t.action.padEnd(10)}${t.id}${t.reasons.length ? `  (${t.reasons.join('; ')})` : ''}`) : []),
            `${plan.filter((t) => t.action === 'run').length} to run (at most; early cutoff may spare some), ${plan.filter((t) => t.action !== 'run').length} cached${o.verbose ? '' : ' (-v: every task and why)'}`].join('\n'));
        return;
      }
      announceVariant(variant);
      if (Object.keys(variant.overrides).length) await planner.store.index.setVariant(variant);
      await planner.store.index.setExecutor(variant.name, executorKind);
      const abort = new AbortController();
      let interrupts = 0;
      const onSigint = (): void => {
        if (++interrupts > 1) process.exit(130);
        abort.abort(); // the reporter says so, inside its live display
      };
      process.on('SIGINT', onSigint);
      const slurm = executorKind === 'slurm';
      const unreachable = slurm ? await checkSlurm() : undefined;
      if (unreachable) throw new UsageError(unreachable);
      const jobs = slurm && cmd.getOptionValueSource('jobs') === 'default' ? Number.MAX_SAFE_INTEGER : o.jobs;
      const executor = slurm
        ? new SlurmExecutor(planner.store, project.module, slurmOpts, (job) => job.stage.resources?.(job.template.runtime) ?? {})
        : undefined;
      const summary = await runTasks(planner, tasks, {
        jobs,
        executor,
        force: new Set(o.force),
        reporter: makeReporter(project.name),
        signal: abort.signal,
      });
      process.off('SIGINT', onSigint);
      if (o.json) print(true, summary, () => '');
      process.stderr.write(`${summaryText(summary)}\n`);
      process.exitCode = summary.interrupted ? 130 : summary.failed ? 1 : 0;
    });

  executorOption(commonOptions(program.command('status').argument('[stages...]', 'stages to inspect (default: all)'), project), project)
    .description('task counts per stage (cached | stale | missing); -v: every task that is not cached, and why')
    .option('-v, --verbose', 'every task that is not cached, with its reasons')
    .action(async (stages: string[], o: CommonOpts & { verbose?: boolean; executor?: string }) => {
      const { graph, variant } = load(project, o);
      const tasks = selectClosure(graph, stages);
      const planner = await plannerFor(project, variant, tasks, 'read', undefined, undefined, o.executor);
      const st = (await inspectTasks(planner, tasks)).map(brief);
      warn(planner);
      const counts = { cached: 0, stale: 0, missing: 0 };
      for (const t of st) counts[t.state]++;
      const states = ['cached', 'stale', 'missing'];
      const byStage = perStage(graph, st, states);
      print(o.json, { experiment: variant.name, counts, stages: byStage, tasks: st }, () =>
        [stageTable(byStage, states),
          ...(o.verbose ? st.filter((t) => t.state !== 'cached').map((t) => `${t.state.padEnd(8)}${t.id}  ${t.reasons.join('; ')}`) : []),
          `${st.length} task(s): ${counts.cached} cached, ${counts.stale} stale, ${counts.missing} missing${!o.verbose && counts.cached < st.length ? ' (-v: each task and why)' : ''}`].join('\n'));
    });

  executorOption(commonOptions(program.command('why').argument('<task>', 'task id, e.g. train@mnist,relu,L2,w512,s3'), project), project)
    .description("the components of a task's cache key")
    .action(async (id: string, o: CommonOpts & { executor?: string }) => {
      const { task, planner, st, mine } = await inspectOne(project, o, id);
      const code = await planner.stageCode(task.stage);
      const info: Record<string, unknown> = {
        id: task.id,
        stage: task.stage.name,
        state: mine.state,
        reasons: mine.reasons,
        axes: task.axes,
        params: task.params,
        code: code.code,
        files: code.files,
        runtime: await planner.stageRuntime(task.stage),
      };
      if (mine.components) {
        info.inputs = mine.components.inputs;
        info.key = mine.key;
      } else {
        const notReady = task.deps.filter((d) => st.find((s) => s.id === d.id)?.state !== 'cached');
        info.inputs = `unknown until ${notReady.map((d) => d.id).join(', ')} are rebuilt`;
      }
      print(o.json, info, () => Object.entries(info).map(([k, v]) => `${k.padEnd(9)}${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}`).join('\n'));
    });

  executorOption(commonOptions(program.command('show').argument('<task>', 'task id'), project), project)
    .description("a task's record and artifact paths")
    .action(async (id: string, o: CommonOpts & { executor?: string }) => {
      const { planner, mine: st } = await inspectOne(project, o, id);
      const key = st.key ?? (await planner.store.index.key(planner.experiment, id));
      const record = key ? await planner.store.records.read(key) : undefined;
      if (!record) {
        const job = st.key ? SlurmExecutor.manifestOf(planner.store, st.key) : undefined;
        throw new UsageError(`task '${id}' has no record yet (${st.state}: ${st.reasons.join('; ')}); run it first${job ? `; its last SLURM job was ${job.jobId}, log ${job.log}` : ''}`);
      }
      const artifacts = Object.fromEntries(Object.entries(record.outputs).map(([n, o2]) => [n, planner.store.blobs.path(o2.hash)]));
      print(o.json, { state: st.state, record, artifacts }, () =>
        [`state    ${st.state}${st.state !== 'cached' ? ` (showing the last record: ${st.reasons.join('; ')})` : ''}`,
          `record   ${planner.store.records.where(record.key)}`,
          ...Object.entries(artifacts).map(([n, p]) => `output   ${n}: ${p}`),
          `ran      ${record.startedAt} for ${(record.durationMs / 1000).toFixed(1)}s on ${record.host}`,
          ...(record.executor ? [`job      ${record.executor.kind} ${record.executor.jobId}, log ${record.executor.log}`] : []),
          `params   ${JSON.stringify(record.params)}`,
          `runtime  ${JSON.stringify(record.runtime)}`,
          ...(record.logs?.length ? ['log', ...record.logs.slice(-20).map((l) => `  ${l}`)] : [])].join('\n'));
    });

  commonOptions(program.command('dag'), project)
    .description('the stage graph, with task counts')
    .option('--format <fmt>', 'text | mermaid | dot', 'text')
    .action((o: CommonOpts & { format: string }) => {
      if (!['text', 'mermaid', 'dot'].includes(o.format)) throw new UsageError(`--format ${o.format}: expected text, mermaid or dot`);
      const { graph } = load(project, o);
      print(o.json, graph.stages.map((s) => ({ stage: s.name, needs: (s.needs ?? []).map((n) => n.stage), tasks: graph.tasks.filter((t) => t.stage === s).length })),
        () => renderDag(graph, o.format as DagFormat, project.name));
    });

  program
    .command('experiments')
    .description('every experiment config (and every variant this store has run): task counts and state')
    .option('--json', 'machine-readable output on stdout')
    .action(async (o: { json?: boolean }) => {
      const store = await storeFor(project, 'read');
      const rows: Record<string, unknown>[] = [];
      const configs = experimentNames(project);
      const names = [...configs, ...store.index.variants().filter((n) => !configs.includes(n)).sort()];
      for (const name of names) {
        try {
          const { exp, variant, graph } = loadNamed(project, store, name);
          const planner = new Planner(project, store, variant, runtimeTarget(readExecutor(project, store, variant.name)));
          const st = await inspectTasks(planner, graph.tasks);
          const n = (s: TaskStatus['state']): number => st.filter((t) => t.state === s).length;
          const [cached, stale, missing] = [n('cached'), n('stale'), n('missing')];
          rows.push({
            name, base: variant.base, overrides: variant.overrides,
            description: typeof exp.config.description === 'string' ? exp.config.description : '',
            tasks: st.length, cached, stale, missing,
            state: cached === st.length ? 'built' : cached === 0 ? 'not built' : 'partial',
          });
        } catch (e) {
          rows.push({ name, error: (e as Error).message.split('\n')[0] });
        }
      }
      print(o.json, { experiments: rows }, () => {
        const w = Math.max(10, ...rows.map((r) => String(r.name).length));
        return [`${'experiment'.padEnd(w)}  ${'tasks'.padStart(6)}  ${'cached'.padStart(6)}  state`,
          ...rows.map((r) => (r.error ? `${String(r.name).padEnd(w)}  invalid: ${String(r.error)}` : `${String(r.name).padEnd(w)}  ${String(r.tasks).padStart(6)}  ${String(r.cached).padStart(6)}  ${String(r.state).padEnd(9)}  ${Object.keys(r.overrides as object).length ? `${String(r.base)} with ${describeOverrides(r.overrides as never)}` : String(r.description)}`))].join('\n');
      });
    });

  executorOption(commonOptions(program.command('results').argument('[stages...]', 'only these stages (default: every stage that declares metrics)'), project), project)
    .description('every metric of the cached tasks as one table: task, stage, metric, value')
    .option('--format <fmt>', 'md | csv | json', 'md')
    .action(async (stages: string[], o: CommonOpts & { format: string; executor?: string }) => {
      if (!['md', 'csv', 'json'].includes(o.format)) throw new UsageError(`--format ${o.format}: expected md, csv or json`);
      const { graph, variant } = load(project, o);
      const known = graph.stages.filter((s) => s.metrics).map((s) => s.name);
      for (const s of stages) if (!known.includes(s)) throw new UsageError(`results ${s}: no stage with metrics of that name${didYouMean(s, known)} (stages with metrics: ${known.join(', ')})`);
      const planner = await plannerFor(project, variant, selectClosure(graph, stages), 'read', undefined, undefined, o.executor);
      const st = await inspectTasks(planner, selectClosure(graph, stages));
      warn(planner);
      const table = await collectMetrics(planner, st, (s) => stages.length === 0 || stages.includes(s.name));
      if (table.notCached.length) process.stderr.write(`note: ${table.notCached.length} task(s) with metrics are not built yet (e.g. ${table.notCached[0]}); run them first\n`);
      if (o.json || o.format === 'json') return print(true, table, () => '');
      print(false, table, () => formatTable(['task', 'stage', 'metric', 'value'], table.rows.map((r) => [r.task, r.stage, r.metric, r.value]), o.format as 'md' | 'csv'));
    });

  program
    .command('diff')
    .argument('<a>', 'experiment name or file, or a variant this store has run (e.g. quick+1a2b3c4d)')
    .argument('<b>', 'the same; --set applies to this side')
    .description('how two experiments differ: changed config values, and how each headline metric moved')
    .option('--set <key=value>', 'override a config value of <b> (repeatable)', collect, [])
    .option('--json', 'machine-readable output on stdout')
    .action(async (a: string, b: string, o: { set: string[]; json?: boolean }) => {
      const store = await storeFor(project, 'read');
      const loaded = [loadNamed(project, store, a), loadNamed(project, store, b, o.set)] as const;
      const sides = loaded.map((l) => ({ ...l, planner: new Planner(project, store, l.variant, runtimeTarget(readExecutor(project, store, l.variant.name))) })) as [Loaded & { planner: Planner }, Loaded & { planner: Planner }];
      const params = diffConfigs(sides[0].exp.config, sides[1].exp.config);
      const headline = (s: (typeof project.stages)[number]): boolean => s.metrics?.headline === true;
      const tables = await Promise.all(sides.map(async (s) =>
        collectMetrics(s.planner, await inspectTasks(s.planner, selectClosure(s.graph, s.graph.stages.filter(headline).map((st) => st.name))), headline)));
      const notBuilt = tables.map((t, i) => (t.notCached.length ? `${sides[i]!.variant.name}: ${t.notCached.length} headline task(s) not built (run: ${project.name} run --experiment ${sides[i]!.variant.base}${Object.keys(sides[i]!.variant.overrides).length ? ` ${Object.entries(sides[i]!.variant.overrides).map(([k, v]) => `--set '${k}=${JSON.stringify(v)}'`).join(' ')}` : ''})` : '')).filter(Boolean);
      const metrics = diffMetrics(tables[0].rows, tables[1].rows);
      const fmt = (v: unknown): string => (v === undefined ? '(none)' : typeof v === 'number' ? Number(v.toPrecision(4)).toString() : JSON.stringify(v));
      print(o.json, { a: sides[0].variant.name, b: sides[1].variant.name, params, metrics, notBuilt }, () =>
        [`${sides[0].variant.name} -> ${sides[1].variant.name}`,
          params.length ? 'changed config values:' : 'no config value differs',
          ...params.map((p) => `  ${p.key}  ${fmt(p.a)} -> ${fmt(p.b)}`),
          ...(metrics.length ? ['headline metrics that moved:', ...metrics.map((m) => `  ${m.task}  ${m.metric}  ${fmt(m.a)} -> ${fmt(m.b)}${m.delta !== undefined ? `  (${m.delta >= 0 ? '+' : ''}${fmt(m.delta)})` : ''}`)] : [notBuilt.length ? '' : 'no headline metric moved']),
          ...notBuilt.map((n) => `note: ${n}`)].filter(Boolean).join('\n'));
    });

  program
    .command('gc')
    .description('delete blobs that no task record references, and leftovers of interrupted writes; with --keep, also every record no kept experiment needs')
    .option('--keep <experiment...>', 'keep only what these experiments (or variants) use now')
    .option('-n, --dry-run', 'print what would be removed, remove nothing')
    .addOption(new Option('--log-days <n>', 'logs of finished SLURM jobs older than this are removed').argParser(positiveInt).default(14))
    .option('--json', 'machine-readable output on stdout')
    .action(async (o: { keep?: string[]; dryRun?: boolean; json?: boolean; logDays: number }) => {
      const store = await storeFor(project, o.dryRun ? 'read' : 'write');
      const names = o.keep;
      const keep = names
        ? async () => {
            const keys = await keysToKeep(project, store, names);
            return (rec: { key: string }) => keys.has(rec.key);
          }
        : undefined;
      const r = await collectGarbage(store, { dryRun: o.dryRun, slurmLogDays: o.logDays, ...(keep ? { keep } : {}) });
      const fate = o.dryRun || r.blockedBy.length ? 'gc will set it aside' : `set aside in ${store.area('quarantine')}/`;
      for (const bad of r.badRecords) process.stderr.write(`warning: invalid task record ${bad}; ${fate}\n`);
      print(o.json, r, () => gcText(r, store.dir, names !== undefined));
    });

  project.extendCli?.(program);
  return program;
}

/** Runs the CLI; returns the process exit code. Usage and config errors exit 2 with one clear message. */
export async function runCli(project: Project, argv: string[]): Promise<number> {
  const program = buildCli(project);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    const err = e as Error & { code?: string; exitCode?: number };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (err.code?.startsWith('commander.')) return 2;
    if (e instanceof ConfigError || e instanceof GraphError || e instanceof UsageError || e instanceof SetupError) {
      process.stderr.write(`${project.name}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`${project.name}: internal error: ${err.stack ?? err.message}\n`);
    return 1;
  }
}
