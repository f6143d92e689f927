// `run`: build what the named stages need on the chosen executor; `--dry-run` prints the plan.
import os from 'node:os';
import { Option, type Command } from 'commander';
import { EXIT_CODE, UsageError } from '../errors.ts';
import { EXECUTORS, executorNames, executorNamed } from '../executors/registry.ts';
import type { ConfiguredExecutor, Flags } from '../executors/kind.ts';
import { collect, jobsFlag } from '../flags.ts';
import { selectClosure } from '../graph.ts';
import { brief, inspectTasks } from '../inspect.ts';
import { envName, envValue } from '../project-env.ts';
import { makeReporter } from '../reporter.ts';
import { runTasks, type RunSummary } from '../scheduler.ts';
import { didYouMean } from '../suggest.ts';
import type { Project } from '../types.ts';
import { describeOverrides, type Variant } from '../variant.ts';
import type { Planner } from '../planner.ts';
import { runProven } from '../proven-plan.ts';
import { commonOptions, keepPlan, loadConfig, loadInterruptibly, perStage, plannerFor, print, provenPlanFor, rel, stageTable, warn, type CommonOpts } from './common.ts';

interface RunFlags {
  force: string[];
  verify?: boolean;
  dryRun?: boolean;
  verbose?: boolean;
  jobs: number | 'auto';
  executor?: string;
}

/** 'a or b', 'a, b or c'. */
const orList = (xs: string[]): string => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`);

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
  if (s.storeFull) {
    const notStarted = s.tasks.filter((t) => t.state === 'skipped' && t.error?.startsWith('not started')).length;
    lines.push(`stopped early: the store is full (${s.storeFull.split(':')[0]} above); ${notStarted} task(s) were not started, running ones finished`);
  }
  for (const p of s.published) lines.push(`published: ${rel(p)}`);
  return lines.join('\n');
}

function announceVariant(v: Variant): void {
  if (Object.keys(v.overrides).length)
    process.stderr.write(`variant '${v.name}' of '${v.base}' (${describeOverrides(v.overrides)}): its own index and published files\n`);
}

export function runCommand(program: Command, project: Project): void {
  let cmd = commonOptions(program.command('run').argument('[stages...]', 'stages to build (default: all)'), project)
    .description('build what the named stages need; cached tasks are not re-run')
    .option('--force <stage>', 're-run every task of a stage (repeatable)', collect, [])
    .option('--verify', "before reusing a cached task, check its record and its outputs' files (a changed one is read and hashed again; a bad one set aside and recomputed); without it, bytes are checked when a task reads them")
    .option('-n, --dry-run', 'print the plan per stage, run nothing')
    .option('-v, --verbose', 'with --dry-run: every task and why it runs; when running: every log line of every task (else one per task)')
    .addOption(new Option('-j, --jobs <n|auto>', `tasks at once (${EXECUTORS.map((e) => e.jobsHelp).join('; ')}); auto: the default`).argParser(jobsFlag).default(os.availableParallelism(), 'the number of cores'))
    .addOption(new Option('--executor <kind>', `where tasks run (default: $${envName(project, 'EXECUTOR')} or local)`).choices(executorNames()));
  for (const e of EXECUTORS) cmd = e.runOptions?.(cmd, project) ?? cmd;
  cmd.action(async (stages: string[], o: CommonOpts & RunFlags & Flags, c: Command) => {
    // Ctrl-C and SIGTERM alike. While planning (nothing started, nothing to keep) they end the
    // command at once; then they stop starting tasks, stop the running ones, keep every record.
    // Every phase yields to the event loop, so either acts within a second at any grid size.
    const abort = new AbortController();
    let interrupts = 0;
    let planning = true;
    const onSignal = (): void => {
      if (planning || ++interrupts > 1) {
        if (planning) process.stderr.write('interrupted while planning; nothing ran\n');
        process.exit(EXIT_CODE.interrupted);
      }
      abort.abort(); // the reporter says so, inside its live display
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await runAction(stages, o, c, abort, () => (planning = false));
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });

  const runAction = async (stages: string[], o: CommonOpts & RunFlags & Flags, c: Command, abort: AbortController, planned: () => void): Promise<void> => {
    const config = loadConfig(project, o);
    const { variant } = config;
    const executorName = o.executor ?? envValue(project, 'EXECUTOR') ?? 'local';
    const kind = executorNamed(executorName);
    if (!kind) throw new UsageError(`$${envName(project, 'EXECUTOR')}=${executorName}: expected ${orList(executorNames())}`);
    // Every executor checks its own flags (a bad one is an error whichever executor runs).
    let chosen: ConfiguredExecutor | undefined;
    for (const e of EXECUTORS) {
      const configured = e.configure(o, project);
      if (e === kind) chosen = configured;
    }
    const executor = chosen!;
    // A plain run first tries the plan its last complete run left (proven-plan.ts): when every
    // task is still cached, no graph is built and no task keyed.
    const tried = !o.dryRun && !o.force.length && !o.verify ? await provenPlanFor(project, config, stages, 'write', kind.runtime) : undefined;
    const jobsFor = (): number => (o.jobs === 'auto' || c.getOptionValueSource('jobs') === 'default' ? (executor.defaultJobs ?? os.availableParallelism()) : (o.jobs as number));
    /** What a run does once planned, whichever way: the variant and executor noted, the executor reachable. */
    let announced = false;
    const beforeRunning = async (planner: Planner): Promise<void> => {
      if (announced) return;
      announced = true;
      announceVariant(variant);
      if (Object.keys(variant.overrides).length) await planner.store.index.setVariant(variant);
      await planner.store.index.setExecutor(variant.name, executorName);
      planned();
      const unreachable = await executor.unreachable?.();
      if (unreachable) throw new UsageError(unreachable);
    };
    if (tried?.plan) {
      const { planner, plan } = tried;
      await beforeRunning(planner);
      const summary = await runProven(planner, plan, { jobs: jobsFor(), reporter: makeReporter(project.name, o.verbose) });
      if (summary) return finish(summary, o.json);
      // A published blob went before the lease was held: plan in full (Ctrl-C now stops tasks, as in any run).
    }
    const { graph } = await loadInterruptibly(project, o, config);
    for (const f of o.force)
      if (!graph.stages.some((s) => s.name === f)) throw new UsageError(`--force ${f}: no such stage${didYouMean(f, graph.stages.map((s) => s.name))} (stages: ${graph.stages.map((s) => s.name).join(', ')})`);
    const tasks = selectClosure(graph, stages);
    const planner = await plannerFor(project, variant, tasks, o.dryRun ? 'read' : 'write', tried?.planner.store, kind.runtime);
    if (o.dryRun) {
      const st = await inspectTasks(planner, tasks, new Set(o.force), o.verify);
      warn(planner);
      const plan = st.map((t) => ({ ...brief(t), action: t.state === 'cached' ? 'use cache' : 'run' }));
      const stagesSummary = perStage(graph, plan.map((p) => ({ stage: p.stage, state: p.action === 'run' ? 'run' : 'cached' })), ['run', 'cached']);
      const jobs = executor.plan ? await executor.plan({ planner, graph, stages: stagesSummary.map((s) => ({ stage: s.stage, run: Number(s.run) })) }) : undefined;
      print(o.json, { dryRun: true, experiment: variant.name, executor: executorName, stages: stagesSummary, ...(jobs ? jobs.json : {}), tasks: plan }, () =>
        [stageTable(stagesSummary, ['run', 'cached']),
          ...(jobs ? jobs.lines : []),
          ...(o.verbose ? plan.map((t) => `${t.action.padEnd(10)}${t.id}${t.reasons.length ? `  (${t.reasons.join('; ')})` : ''}`) : []),
          `${plan.filter((t) => t.action === 'run').length} to run (at most; early cutoff may spare some), ${plan.filter((t) => t.action !== 'run').length} cached${o.verbose ? '' : ' (-v: every task and why)'}`].join('\n'));
      return;
    }
    await beforeRunning(planner);
    const jobs = jobsFor();
    const summary = await runTasks(planner, tasks, {
      jobs,
      executor: executor.create({ store: planner.store, project, jobs }),
      force: new Set(o.force),
      verify: o.verify ?? false,
      reporter: makeReporter(project.name, o.verbose),
      signal: abort.signal,
    });
    if (!abort.signal.aborted) await keepPlan(planner, config.exp, stages, graph, tasks, summary.tasks);
    finish(summary, o.json);
  };

  const finish = (summary: RunSummary, json: boolean | undefined): void => {
    if (json) print(true, summary, () => '');
    process.stderr.write(`${summaryText(summary)}\n`);
    process.exitCode = summary.interrupted ? EXIT_CODE.interrupted : summary.failed ? 1 : 0;
  };
}
