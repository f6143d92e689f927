// Every executor `--executor` can name, in the order their flags appear in `--help`.
import type { ExecutorKind } from './kind.ts';
import { localExecutor } from './local.ts';
import { slurmExecutor } from './slurm/index.ts';

export const EXECUTORS: readonly ExecutorKind[] = [localExecutor, slurmExecutor];

export const executorNames = (): string[] => EXECUTORS.map((e) => e.name);

export function executorNamed(name: string): ExecutorKind | undefined {
  return EXECUTORS.find((e) => e.name === name);
}

/** How a read command keys tasks of an executor: an unknown name (an old index) keys as local. */
export function runtimeOf(name: string): ExecutorKind['runtime'] {
  return executorNamed(name)?.runtime ?? 'local';
}
