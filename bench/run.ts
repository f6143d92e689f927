// `make bench`: timed goals live here, not in the tests. `node --import tsx bench/run.ts [engine|train|a1|correlate|quick|report|slurm|slurm-overhead]...`
import { benchEngine } from './engine.ts';
import { benchDifferenceForm, benchStorage, benchTrain } from './train.ts';
import { benchCorrelate } from './correlate.ts';
import { benchA1FunctionSpace } from './a1-function-space.ts';
import { benchQuick } from './quick.ts';
import { benchSlurm, benchSlurmOverhead } from './slurm.ts';
import { benchReport } from './report.ts';

const only = process.argv.slice(2);
const want = (name: string): boolean => only.length === 0 || only.includes(name);

if (want('engine')) {
  console.log('\n## engine overhead (goals: no-op run and status under 2 s wall and 1 GB at 100,000 cached tasks; parent under 0.5 ms CPU per finished task; BENCH_ENGINE_SIZES, BENCH_BASE=<main checkout>)');
  for (const line of await benchEngine()) console.log(line);
}

if (want('train')) {
  console.log('\n## training step, net + linearization (goal: within 1.5x of PyTorch CPU at the same thread count and OpenBLAS core)');
  for (const line of await benchTrain()) console.log(line);
  console.log('\n## parameter storage (issue 19): theta0 + displacement vs the old absolute storage (goal: at most 10% more per step)');
  for (const line of await benchStorage()) console.log(line);
  console.log('\n## difference-form evaluation (issue 26): f - f_lin from f - f0 and J delta vs two plain forward passes (training step unchanged; goal: under 20% per step)');
  for (const line of await benchDifferenceForm()) console.log(line);
}

if (want('a1')) {
  console.log('\n## A.1 task, f_lin in function space vs parameter space (issue 20; goal: function space at least 2.5x faster at widths 64 and 256)');
  for (const line of await benchA1FunctionSpace()) console.log(line);
}

if (want('correlate')) {
  console.log('\n## correlate cost per network, depth 2, 160 samples x 10 outputs (goal: time per (x, i) pair under 3x one forward + backward of one sample)');
  console.table(await benchCorrelate());
}

if (want('quick')) {
  console.log('\n## cold `make report` of the default experiment (goal: under 20 minutes with --jobs 2)');
  for (const line of benchQuick()) console.log(line);
}

if (want('report')) {
  console.log('\n## report size and load time in headless Chromium (goals: 7,000 runs <= 3 MB and drawn < 2 s; quick-sized <= 1.5 MB and < 1 s; BENCH_REPORT_BASE=<checkout> for before/after, REPORT_HTML=<file> for a built report)');
  for (const line of await benchReport()) console.log(line);
}

if (want('slurm')) {
  console.log('\n## SLURM executor on the single-node test cluster (goals: overhead < 2 s per task; plan + submit paper-a2 < 30 s, --dry-run < 5 s)');
  for (const line of await benchSlurm()) console.log(line);
}

if (only.includes('slurm-overhead')) {
  const reps = Number(process.env.BENCH_REPS ?? 3);
  console.log('\n## SLURM executor: scheduling overhead per task only (goal < 2 s)');
  for (const line of await benchSlurmOverhead(reps)) console.log(line);
}
