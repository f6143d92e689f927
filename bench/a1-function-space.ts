// Issue 20's goal for A.1: a whole A.1 training task (trainSideBySide of a1Job: 128 train + 32 test
// images, depth 2, full-batch GD, monitoring every logEvery steps, floors) with f_lin trained in
// function space (the default) against parameter space (JVP + VJP per step, main before issue 20),
// interleaved task by task in one process on one backend. Goal: function space >= 2.5x faster.
import { selectBackend, tf, type BackendKind } from '../stages/model/backend.ts';
import { probeOpenblas } from '../stages/model/backends/openblas.ts';
import { fakeSplit } from '../test/train/fake-split.ts';
import { trainSideBySide } from '../stages/train/loop.ts';
import { a1Job } from '../stages/protocols/a1/job.ts';
import { median } from './timing.ts';

export async function benchA1FunctionSpace(widths = [64, 256], rounds = Number(process.env.BENCH_ROUNDS ?? 5), steps = Number(process.env.BENCH_A1_STEPS ?? 500)): Promise<string[]> {
  const blas = probeOpenblas();
  // Three sides, interleaved task by task: wasm + parameter space (main when issue 20 was filed),
  // then, on the best CPU backend, parameter space and function space.
  await selectBackend('wasm', { log: () => {} });
  const backend: BackendKind = blas.ok ? 'blas' : 'wasm';
  const info = await selectBackend(backend, { log: () => {} });
  const split = fakeSplit(400, 784);
  const p = { trainSamples: 128, testSamples: 32, permutationSeed: 0, drawPerSeed: true, zscore: true, steps, lr: 1, logEvery: 25, parameterization: 'ntk' as const, sigmaW: 1, sigmaB: 0.05, lossScale: 0.5 };
  const spread = (v: number[]): string => `${median(v).toFixed(0)} [${Math.min(...v).toFixed(0)}-${Math.max(...v).toFixed(0)}]`;
  const lines = [
    `${info.name} on ${info.device}${blas.ok ? `, OpenBLAS core ${blas.core ?? 'unknown'}` : ''}; A.1 task 784-n-n-10 erf, 128 + 32 samples, ${steps} steps, logEvery 25; ${rounds} rounds interleaved (wasm parameter, ${backend} parameter, ${backend} function, ...); median [min-max] ms per task`,
    `width | wasm parameter space ms | ${backend} parameter space ms | ${backend} function space ms | speed-up of ${backend} function over wasm parameter | over ${backend} parameter`,
  ];
  for (const width of widths) {
    const pt = { dataset: 'bench', activation: 'erf' as const, depth: 2, width, seed: 0 };
    const run = async (on: string, linearization: 'function' | 'parameter'): Promise<number> => {
      await tf.setBackend(on);
      const t0 = performance.now();
      const out = await trainSideBySide(a1Job(split, { ...p, linearization }, pt, { progress: () => {} }));
      if (out.status !== 'ok') throw new Error(`bench A.1 ${on} ${linearization} width ${width}: ${out.status}`);
      return performance.now() - t0;
    };
    const sides: [string, 'function' | 'parameter'][] = [['wasm', 'parameter'], [info.name, 'parameter'], [info.name, 'function']];
    for (const [on, lin] of sides) await run(on, lin); // warm-up
    const times: number[][] = sides.map(() => []);
    for (let r = 0; r < rounds; r++) for (const [i, [on, lin]] of sides.entries()) times[i]!.push(await run(on, lin));
    const [w, par, fun] = times as [number[], number[], number[]];
    lines.push([width, spread(w), spread(par), spread(fun), (median(w) / median(fun)).toFixed(2), (median(par) / median(fun)).toFixed(2)].join(' | '));
  }
  await tf.setBackend(info.name);
  return lines;
}
