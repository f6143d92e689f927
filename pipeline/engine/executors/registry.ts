// Every executor `--executor` can name: one line each. An executor is one module (or folder)
// exporting an ExecutorKind (kind.ts); nothing else in the engine names it.
import type { ExecutorKind } from './kind.ts';
import { localExecutor } from './local.ts';
import { slurmExecutor } from './slurm/index.ts';

const executors: ExecutorKind[] = [localExecutor, slurmExecutor];

/** Every executor, in the order their flags appear in `--help`. */
export const EXECUTORS: readonly ExecutorKind[] = executors;

/**
 * Adds an executor kept outside this folder (a test's, a project's own), before the command
 * line is built; returns a function that takes it out again.
 */
export function registerExecutor(kind: ExecutorKind): () => void {
  if (executorNamed(kind.name)) throw new Error(`internal: an executor named '${kind.name}' is registered already`);
  executors.push(kind);
  return () => {
    const at = executors.indexOf(kind);
    if (at >= 0) executors.splice(at, 1);
  };
}

export const executorNames = (): string[] => EXECUTORS.map((e) => e.name);

export function executorNamed(name: string): ExecutorKind | undefined {
  return EXECUTORS.find((e) => e.name === name);
}

/** How a read command keys tasks of an executor: an unknown name (an old index) keys as local. */
export function runtimeOf(name: string): ExecutorKind['runtime'] {
  return executorNamed(name)?.runtime ?? 'local';
}
