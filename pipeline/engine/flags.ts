// Parsers of command-line flag values, shared by the commands and the executors' own flags.
import { InvalidArgumentError } from 'commander';

/** A repeatable flag's values, in order. */
export const collect = (v: string, prev: string[]): string[] => [...prev, v];

export const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
};

/** --jobs: a positive integer, or 'auto' (the executor's default: the number of cores for local). */
export const jobsFlag = (v: string): number | 'auto' => (v === 'auto' ? 'auto' : positiveInt(v));
