// `weakcorr run | status | why | show | dag | gc`: the engine's command line, for any Project.
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadExperiment, type LoadedExperiment } from './config.ts';
import { buildGraph, GraphError, selectClosure, taskClosure, type TaskGraph, type TaskNode } from './graph.ts';
import { brief, inspectTasks } from './inspect.ts';
import { Planner } from './planner.ts';
import { makeReporter } from './reporter.ts';
import { runTasks, type RunSummary } from './scheduler.ts';
import { Store } from './store.ts';
import { renderDag, type DagFormat } from './dag-format.ts';
import type { Project } from './types.ts';

interface CommonOpts {
  experiment: string;
  set: string[];
  json?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
};

class UsageError extends Error {}

function storeFor(project: Project): Store {
  const dir = process.env[project.cacheEnvVar] || path.resolve(project.root, project.defaultCacheDir);
  return new Store(dir);
}

function load(project: Project, o: CommonOpts): { exp: LoadedExperiment; graph: TaskGraph; planner: Planner } {
  const exp = loadExperiment(o.experiment, project.experimentsDir, project.experimentSchema, o.set);
  const graph = buildGraph(project.stages, exp.config);
  return { exp, graph, planner: new Planner(project, storeFor(project), exp.name) };
}

function findTask(graph: TaskGraph, id: string): TaskNode {
  const t = graph.byId.get(id);
  if (t) return t;
  const close = [...graph.byId.keys()].filter((k) => k.includes(id)).slice(0, 10);
  throw new UsageError(`no task '${id}' in this experiment${close.length ? `; did you mean: ${close.join(', ')}` : ''}`);
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

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
  return lines.join('\n');
}

function commonOptions(cmd: Command, project: Project): Command {
  return cmd
    .option('-e, --experiment <name|file>', 'experiment config name or JSON file', project.defaultExperiment)
    .option('--set <key=value>', 'override a config value (repeatable)', collect, [])
    .option('--json', 'machine-readable output on stdout');
}

export function buildCli(project: Project): Command {
  const program = new Command('weakcorr')
    .description(`${project.name}: a content-hashed, cached pipeline of stages`)
    .showHelpAfterError()
    .exitOverride();

  commonOptions(program.command('run').argument('[stages...]', 'stages to build (default: all)'), project)
    .description('build what the named stages need; cached tasks are not re-run')
    .option('--force <stage>', 're-run every task of a stage (repeatable)', collect, [])
    .option('-n, --dry-run', 'print the plan, run nothing')
    .option('-j, --jobs <n>', 'tasks at once, each in its own worker process', positiveInt, 1)
    .action(async (stages: string[], o: CommonOpts & { force: string[]; dryRun?: boolean; jobs: number }) => {
      const { graph, planner } = load(project, o);
      for (const f of o.force)
        if (!graph.stages.some((s) => s.name === f)) throw new UsageError(`--force ${f}: no such stage; stages: ${graph.stages.map((s) => s.name).join(', ')}`);
      const tasks = selectClosure(graph, stages);
      if (o.dryRun) {
        const st = await inspectTasks(planner, tasks, new Set(o.force));
        const plan = st.map((t) => ({ ...brief(t), action: t.state === 'cached' ? 'use cache' : 'run' }));
        print(o.json, { dryRun: true, tasks: plan }, () =>
          [...plan.map((t) => `${t.action.padEnd(10)}${t.id}${t.reasons.length ? `  (${t.reasons.join('; ')})` : ''}`),
            `${plan.filter((t) => t.action === 'run').length} to run (at most; early cutoff may spare some), ${plan.filter((t) => t.action !== 'run').length} cached`].join('\n'));
        return;
      }
      const abort = new AbortController();
      let interrupts = 0;
      const onSigint = (): void => {
        if (++interrupts > 1) process.exit(130);
        process.stderr.write('\ninterrupted: stopping workers; finished tasks are kept (Ctrl-C again to quit at once)\n');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      const summary = await runTasks(planner, tasks, {
        jobs: o.jobs,
        force: new Set(o.force),
        reporter: makeReporter(),
        signal: abort.signal,
      });
      process.off('SIGINT', onSigint);
      if (o.json) print(true, summary, () => '');
      process.stderr.write(`${summaryText(summary)}\n`);
      process.exitCode = summary.interrupted ? 130 : summary.failed ? 1 : 0;
    });

  commonOptions(program.command('status').argument('[stages...]', 'stages to inspect (default: all)'), project)
    .description('every task with its state (cached | stale | missing) and why')
    .action(async (stages: string[], o: CommonOpts) => {
      const { graph, planner } = load(project, o);
      const st = (await inspectTasks(planner, selectClosure(graph, stages))).map(brief);
      for (const w of planner.warnings) process.stderr.write(`warning: ${w}\n`);
      const counts = { cached: 0, stale: 0, missing: 0 };
      for (const t of st) counts[t.state]++;
      print(o.json, { counts, tasks: st }, () =>
        [...st.filter((t) => t.state !== 'cached').map((t) => `${t.state.padEnd(8)}${t.id}  ${t.reasons.join('; ')}`),
          `${st.length} task(s): ${counts.cached} cached, ${counts.stale} stale, ${counts.missing} missing`].join('\n'));
    });

  commonOptions(program.command('why').argument('<task>', 'task id, e.g. train@mnist,relu,L2,w512,s3'), project)
    .description("the components of a task's cache key")
    .action(async (id: string, o: CommonOpts) => {
      const { graph, planner } = load(project, o);
      const task = findTask(graph, id);
      const st = await inspectTasks(planner, taskClosure(graph, task));
      const mine = st.at(-1)!;
      const info: Record<string, unknown> = {
        id: task.id,
        stage: task.stage.name,
        state: mine.state,
        reasons: mine.reasons,
        axes: task.axes,
        params: task.params,
        code: await planner.stageCode(task.stage),
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

  commonOptions(program.command('show').argument('<task>', 'task id'), project)
    .description("a task's record and artifact paths")
    .action(async (id: string, o: CommonOpts) => {
      const { graph, planner } = load(project, o);
      const task = findTask(graph, id);
      const st = (await inspectTasks(planner, taskClosure(graph, task))).at(-1)!;
      const key = st.key ?? (await planner.store.readIndex(planner.experiment, id));
      const record = key ? await planner.store.readRecord(key) : undefined;
      if (!record) throw new UsageError(`task '${id}' has no record yet (${st.state}: ${st.reasons.join('; ')}); run it first`);
      const artifacts = Object.fromEntries(Object.entries(record.outputs).map(([n, o2]) => [n, planner.store.objectPath(o2.hash)]));
      print(o.json, { state: st.state, record, artifacts }, () =>
        [`state    ${st.state}${st.state !== 'cached' ? ` (showing the last record: ${st.reasons.join('; ')})` : ''}`,
          `record   ${planner.store.recordPath(record.key)}`,
          ...Object.entries(artifacts).map(([n, p]) => `output   ${n}: ${p}`),
          `ran      ${record.startedAt} for ${(record.durationMs / 1000).toFixed(1)}s on ${record.host}`,
          `params   ${JSON.stringify(record.params)}`,
          `runtime  ${JSON.stringify(record.runtime)}`].join('\n'));
    });

  commonOptions(program.command('dag'), project)
    .description('the stage graph, with task counts')
    .option('--format <fmt>', 'text | mermaid | dot', 'text')
    .action((o: CommonOpts & { format: string }) => {
      if (!['text', 'mermaid', 'dot'].includes(o.format)) throw new UsageError(`--format ${o.format}: expected text, mermaid or dot`);
      const { graph } = load(project, o);
      print(o.json, graph.stages.map((s) => ({ stage: s.name, needs: (s.needs ?? []).map((n) => n.stage), tasks: graph.tasks.filter((t) => t.stage === s).length })),
        () => renderDag(graph, o.format as DagFormat));
    });

  program
    .command('gc')
    .description('delete blobs that no task record references, and leftovers of interrupted writes')
    .option('--json', 'machine-readable output on stdout')
    .action(async (o: { json?: boolean }) => {
      const store = storeFor(project);
      await store.init();
      const r = await store.gc();
      print(o.json, r, () => `gc: removed ${r.removedBlobs} blob(s) (${(r.removedBytes / 1e6).toFixed(1)} MB) and ${r.removedTmp} temp file(s); kept ${r.keptBlobs} blob(s) in ${store.dir}`);
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
    if (err.code?.startsWith('commander.')) return err.exitCode ?? 2;
    if (e instanceof ConfigError || e instanceof GraphError || e instanceof UsageError) {
      process.stderr.write(`weakcorr: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`weakcorr: internal error: ${err.stack ?? err.message}\n`);
    return 1;
  }
}
