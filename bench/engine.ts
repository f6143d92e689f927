// Engine overhead: a toy DAG of ~10,000 tasks, all cached; time a no-op `run` and `status`
// (whole CLI processes, as a user runs them). Goal: under 2 s each on a 2-core machine.
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import { makeToy } from '../test/engine/toy.ts';

export async function benchEngine(): Promise<Record<string, number>> {
  const items = Array.from({ length: 5000 }, (_, i) => i);
  const toy = makeToy({ items, scale: 2 });
  try {
    const t0 = performance.now();
    const cold = toy.cli(['run', '--jobs', '2', '--json']);
    if (cold.code !== 0) throw new Error(`cold run failed: ${cold.stderr.slice(-2000)}`);
    const coldS = (performance.now() - t0) / 1000;
    const tasks = cold.json.tasks.length as number;
    const time = (args: string[]): number => {
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) {
        const s = performance.now();
        const r = toy.cli(args);
        if (r.code !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
        samples.push((performance.now() - s) / 1000);
      }
      return samples.sort((a, b) => a - b)[1]!;
    };
    const noop = time(['run', '--json']);
    const check = toy.cli(['run', '--json']).json;
    if (check.executed !== 0) throw new Error(`no-op run executed ${check.executed} task(s)`);
    const status = time(['status']);
    const rows = {
      tasks,
      'cold run --jobs 2 (s)': coldS,
      'no-op run, all cached (s, median of 3)': noop,
      'status (s, median of 3)': status,
    };
    return rows;
  } finally {
    fs.rmSync(toy.dir, { recursive: true, force: true });
  }
}
