// What an executor brings besides running tasks (executor.ts): its flags, how its tasks' keys
// resolve runtimes, its dry-run plan, what `show` says of a task it ran, and its part of gc.
// A new executor is one module exporting an ExecutorKind and one line in registry.ts.
import type { Command } from 'commander';
import type { Executor } from '../executor.ts';
import type { GcHook } from '../gc.ts';
import type { TaskGraph } from '../graph.ts';
import type { Planner } from '../planner.ts';
import type { Store } from '../store.ts';
import type { Project, RuntimeTarget } from '../types.ts';

/** A command's parsed flags, as the command line hands them over: each executor reads its own. */
export type Flags = Readonly<Record<string, unknown>>;

/** Per stage, how many tasks a run would execute now (for a dry run's plan). */
export interface StagePlan {
  stage: string;
  run: number;
}

export interface ExecutorKind {
  /** The value of `--executor` (and of `$<PREFIX>_EXECUTOR`). */
  name: string;
  /**
   * Where its tasks run, which decides how stage runtimes enter their keys: 'local' probes this
   * host; 'remote' (jobs on other machines) answers from what is requested.
   */
  runtime: RuntimeTarget;
  /** Its part of `run --jobs`'s help, e.g. 'local: worker processes'. */
  jobsHelp: string;
  /** Adds its flags to `run`. */
  runOptions?(cmd: Command, project: Project): Command;
  /** Reads and checks its flags (and environment) for a run; throws UsageError on a bad one. */
  configure(flags: Flags, project: Project): ConfiguredExecutor;
  /** `show` of a task without a record: where its last job is (one clause), when this executor knows. */
  lastJob?(store: Store, key: string): string | undefined;
  /** Adds its flags to `gc`. */
  gcOptions?(cmd: Command): Command;
  /** gc's hook for its own files in the store, under gc's flags. */
  gc?(flags: Flags): GcHook;
}

export interface ConfiguredExecutor {
  /** --jobs when the flag is not given (default: the number of cores). */
  defaultJobs?: number;
  /** Checked once before a run: why it cannot run from here (one line), or undefined. */
  unreachable?(): Promise<string | undefined>;
  create(ctx: { store: Store; project: Project; jobs: number }): Executor;
  /** `run --dry-run`: what it would submit now, as fields of the JSON plan and lines of text. */
  plan?(ctx: { planner: Planner; graph: TaskGraph; stages: readonly StagePlan[] }): Promise<{ json: Record<string, unknown>; lines: string[] }>;
}
