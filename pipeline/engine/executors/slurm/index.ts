// `--executor slurm`: its flags, its keys (runtimes as requested: jobs run on compute nodes),
// its dry-run plan (one array per stage, with sbatch arguments and GPU-hours), what `show` says
// of a task without a record, and gc of `slurm/`.
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { collect, positiveInt } from '../../flags.ts';
import { envName, envValue } from '../../project-env.ts';
import type { ExecutorKind, Flags, StagePlan } from '../kind.ts';
import type { Planner } from '../../planner.ts';
import type { TaskGraph } from '../../graph.ts';
import { slurmGcHook } from './gc.ts';
import { checkSlurm, DEFAULT_POLL_MS, SlurmExecutor, sbatchResourceArgs, type SlurmOptions } from './slurm.ts';

const str = (flags: Flags, k: string): string | undefined => (typeof flags[k] === 'string' ? flags[k] : undefined);
const strs = (flags: Flags, k: string): string[] => (Array.isArray(flags[k]) ? flags[k].filter((v): v is string => typeof v === 'string') : []);

/** `run --executor slurm --dry-run`: the arrays a run would submit now, per stage, with resources. */
async function slurmPlan(planner: Planner, graph: TaskGraph, counts: readonly StagePlan[], o: SlurmOptions) {
  const out: { stage: string; jobs: number; sbatch: string[]; gpus: number; gpuHours?: number; estimate?: string }[] = [];
  for (const c of counts) {
    const stage = graph.stages.find((s) => s.name === c.stage)!;
    const n = c.run;
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

export const slurmExecutor: ExecutorKind = {
  name: 'slurm',
  runtime: 'remote',
  jobsHelp: 'slurm: jobs in the queue, default unlimited',

  runOptions: (cmd: Command, project) =>
    cmd
      .option('--partition <name>', 'slurm: sbatch --partition')
      .option('--account <name>', 'slurm: sbatch --account')
      .option('--time <limit>', "slurm: sbatch --time for every job (default: the stage's own)")
      .option('--gres <spec>', 'slurm: sbatch --gres for every job (default: gpu:N for stages that ask for GPUs)')
      .option('--mem <size>', 'slurm: sbatch --mem for every job')
      .option('--sbatch <arg>', 'slurm: one more sbatch argument (repeatable)', collect, [])
      .addOption(new Option('--poll-ms <ms>', `slurm: milliseconds between queue polls (default: $${envName(project, 'SLURM_POLL_MS')} or ${DEFAULT_POLL_MS})`).argParser(positiveInt)),

  configure(flags, project) {
    const pollEnv = envValue(project, 'SLURM_POLL_MS');
    let pollMs = typeof flags.pollMs === 'number' ? flags.pollMs : undefined;
    if (pollMs === undefined && pollEnv !== undefined) {
      pollMs = Number(pollEnv);
      if (!Number.isInteger(pollMs) || pollMs < 1) throw new UsageError(`$${envName(project, 'SLURM_POLL_MS')}=${pollEnv}: expected a positive integer (milliseconds)`);
    }
    const extra = strs(flags, 'sbatch');
    const comment = extra.find((a) => /^--comment\b/.test(a));
    if (comment) throw new UsageError(`--sbatch=${comment}: the executor sets --comment itself (it finds an array whose sbatch reply was lost by it)`);
    const opts: SlurmOptions = {
      partition: str(flags, 'partition'), account: str(flags, 'account'), time: str(flags, 'time'), gres: str(flags, 'gres'), mem: str(flags, 'mem'),
      extra, pollMs, jobName: project.name, debug: envValue(project, 'DEBUG') !== undefined,
    };
    return {
      defaultJobs: Number.MAX_SAFE_INTEGER,
      unreachable: checkSlurm,
      create: ({ store, project: p }) => new SlurmExecutor(store, p.module, opts, (job) => job.stage.resources?.(job.template.runtime) ?? {}),
      async plan({ planner, graph, stages }) {
        const jobs = await slurmPlan(planner, graph, stages, opts);
        return {
          json: { slurm: jobs },
          lines: ['slurm jobs (one array per stage; a task is submitted once its inputs exist):', ...jobs.map((j) => `  ${j.stage.padEnd(12)} ${String(j.jobs).padStart(6)} job(s)  sbatch ${j.sbatch.join(' ')}${j.gpuHours !== undefined ? `  ~${j.gpuHours.toFixed(1)} GPU-hours (${j.estimate})` : ''}`)],
        };
      },
    };
  },

  lastJob(store, key) {
    const job = SlurmExecutor.manifestOf(store, key);
    return job ? `its last SLURM job was ${job.jobId}, log ${job.log}` : undefined;
  },

  gcOptions: (cmd) => cmd.addOption(new Option('--log-days <n>', 'logs of finished SLURM jobs older than this are removed').argParser(positiveInt).default(14)),

  gc: (flags) => slurmGcHook(typeof flags.logDays === 'number' ? flags.logDays : 14),
};
