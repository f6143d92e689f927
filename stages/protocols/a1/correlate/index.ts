// Stage 'correlate': derivative correlations C^{0,1..3} of every A.1 net at theta0 (and,
// with correlate.atEnd, at the end of training), exact by Taylor mode and by the paper's
// sampled estimator (Eq. 25), per (sample, output) and aggregated (docs/science.md, "Derivative
// correlations"). tfjs is loaded only inside run(), in the worker.
import { Type } from '@sinclair/typebox';
import { defineStage, jsonOutput, need, type TypedContext } from '../../../../pipeline/engine/define-stage.ts';
import { CorrelationResultSchema } from '../../../contracts/correlation-result.ts';
import { fetchStage } from '../../../fetch/index.ts';
import { ensureBackend, modelRuntime } from '../../../model/runtime.ts';
import { A1Config, CorrelateConfig } from '../config.ts';
import { A1_GRID, a1Point, a1Spec } from '../job.ts';
import { readSplit } from '../../../train/inputs.ts';
import { trainA1Stage } from '../train.ts';
import { correlationSamples, hostParamsFromBytes, samplesProblem } from './inputs.ts';
import { buildResult, sampledSetSeed } from './result.ts';

async function readTrainedParams(ctx: Pick<TypedContext<unknown>, 'inputs' | 'id' | 'readBytes'>): Promise<{ bytes: Uint8Array; from: string }> {
  const up = ctx.inputs[trainA1Stage.name]?.[0];
  const ref = up?.outputs.params;
  if (!up || !ref)
    throw new Error(`${ctx.id}: correlate.atEnd is true, but ${up ? `${up.id} has no 'params' output` : 'no train-a1 task reached this task'} ` +
      `(train-a1 saves its final parameters only when correlate.atEnd is true)`);
  return { bytes: await ctx.readBytes(ref), from: up.id };
}

export const correlateStage = defineStage({
  name: 'correlate',
  module: import.meta.url,
  description: 'Derivative correlations C^{0,1..3} of the A.1 nets at theta0: exact (Taylor mode) and the sampled estimator (Eq. 25)',
  params: {
    a1: Type.Pick(A1Config, ['trainSamples', 'testSamples', 'permutationSeed', 'drawPerSeed', 'zscore', 'parameterization', 'sigmaW', 'sigmaB', 'lr']),
    correlate: CorrelateConfig,
  },
  matrix: A1_GRID,
  needs: [
    need(fetchStage, { outputs: ['train_images', 'train_labels'] }),
    need(trainA1Stage, { outputs: ['params'], when: 'correlate.atEnd' }),
  ],
  json: { result: jsonOutput(CorrelationResultSchema) },
  metrics: {
    // `results`: the RMS of each exact correlation at init (and after training, with atEnd).
    read(output) {
      const r = output('result');
      const out: Record<string, number | null> = {};
      for (const c of ['c01', 'c02', 'c03'] as const) {
        out[`${c} rms`] = r.exact[c].rms;
        if (r.atEnd) out[`${c} rms atEnd`] = r.atEnd.exact[c].rms;
      }
      return out;
    },
  },
  runtime: modelRuntime,
  check: (p) => samplesProblem(p.correlate.samples, p.a1, { samples: 'correlate.samples', section: 'a1' }),
  async run(ctx) {
    const { a1, correlate: c } = ctx.params;
    const pt = a1Point(ctx.axes);
    const train = await readSplit(ctx, 'train');
    const X = correlationSamples(train, a1, pt.dataset, pt.seed, c.samples);
    const spec = a1Spec(train.dim, pt, a1);
    const trained = c.atEnd ? await readTrainedParams(ctx) : null;
    const endHost = trained ? hostParamsFromBytes(spec, trained.bytes, `${trained.from} params`) : null;

    const info = await ensureBackend((line) => ctx.log(line));
    // Loaded here, in the worker: the parent process that plans the run never loads tfjs.
    const { measureCorrelations, theta0 } = await import('./measure.ts');
    const passes = endHost ? 2 : 1;
    const opts = (pass: number) => ({
      eta: a1.lr, perLayer: c.sampledSetSize, setSeed: sampledSetSeed(c.sampledSeed, pt.seed), signal: ctx.signal,
      progress: (done: number, total: number) => ctx.progress(pass * total + done, passes * total, pass === 0 ? 'theta0' : 'end of training'),
    });
    const atStart = await measureCorrelations(spec, theta0(spec, pt.seed), X.x, opts(0));
    const atEnd = endHost ? await measureCorrelations(spec, endHost, X.x, opts(1)) : null;
    await ctx.write('result', buildResult({
      point: pt, spec, theta0: atStart, atEnd,
      backend: { name: info.name, tfjsVersion: info.tfjsVersion, device: info.deviceLabel },
    }));
  },
});
