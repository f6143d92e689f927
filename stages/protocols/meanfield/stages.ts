// The negative control's own stages: training (the shared training stage) and correlations at
// theta0 (the correlate stage's measurement code, with this grid's nets and eta).
import { Type } from '@sinclair/typebox';
import { defineStage, jsonOutput, need } from '../../../pipeline/engine/define-stage.ts';
import { CorrelationResultSchema } from '../../contracts/correlation-result.ts';
import { fetchStage } from '../../fetch/index.ts';
import { correlationSamples, samplesProblem } from '../a1/correlate/inputs.ts';
import { buildResult, sampledSetSeed } from '../a1/correlate/result.ts';
import { ensureBackend, modelRuntime } from '../../model/runtime.ts';
import { readSplit } from '../../train/inputs.ts';
import { gridSizes, trainingStage } from '../../train/stage.ts';
import { MeanFieldConfig, MF_RUN_KEYS } from './config.ts';
import { MF_GRID, mfJob, mfLearningRate, mfPoint, mfSpec } from './job.ts';

export const trainMeanFieldStage = trainingStage({
  name: 'train-meanfield',
  protocol: 'meanfield',
  module: import.meta.url,
  description: 'Negative control: A.1 nets in the NTK and mean-field parameterizations and their linearizations, full-batch GD',
  params: { meanfield: Type.Pick(MeanFieldConfig, [...MF_RUN_KEYS]) },
  matrix: MF_GRID,
  splits: ['train'],
  shape: ({ params: p, axes: a }) => ({
    sizes: gridSizes(a),
    batch: p.meanfield.trainSamples,
    steps: p.meanfield.steps,
  }),
  job: async (ctx, hooks) => mfJob(await readSplit(ctx, 'train'), ctx.params.meanfield, mfPoint(ctx.axes), hooks),
});

export const correlateMeanFieldStage = defineStage({
  name: 'correlate-meanfield',
  module: import.meta.url,
  description: 'Negative control: exact C^{0,1..3} at theta0 of the NTK and mean-field nets (eta as in training)',
  params: {
    meanfield: Type.Pick(MeanFieldConfig, ['trainSamples', 'testSamples', 'permutationSeed', 'drawPerSeed', 'zscore', 'lr0', 'sigmaW', 'sigmaB', 'samples', 'sampledSetSize', 'sampledSeed']),
  },
  matrix: MF_GRID,
  needs: [need(fetchStage, { outputs: ['train_images', 'train_labels'] })],
  json: { result: jsonOutput(CorrelationResultSchema) },
  runtime: modelRuntime,
  check: (p) => samplesProblem(p.meanfield.samples, p.meanfield, { samples: 'meanfield.samples', section: 'meanfield' }),
  async run(ctx) {
    const m = ctx.params.meanfield;
    const pt = mfPoint(ctx.axes);
    const train = await readSplit(ctx, 'train');
    const X = correlationSamples(train, m, pt.dataset, pt.seed, m.samples, { samples: 'meanfield.samples', section: 'meanfield' });
    const spec = mfSpec(train.dim, pt, m);
    const info = await ensureBackend((line) => ctx.log(line));
    // Loaded here, in the worker: the parent process that plans the run never loads tfjs.
    const { measureCorrelations, theta0 } = await import('../a1/correlate/measure.ts');
    const measured = await measureCorrelations(spec, theta0(spec, pt.seed), X.x, {
      eta: mfLearningRate(pt.parameterization, m.lr0, pt.width), perLayer: m.sampledSetSize, setSeed: sampledSetSeed(m.sampledSeed, pt.seed),
      signal: ctx.signal, progress: (done, total) => ctx.progress(done, total, 'theta0'),
    });
    await ctx.write('result', buildResult({
      point: { dataset: pt.dataset, activation: pt.activation, depth: pt.depth, width: pt.width, seed: pt.seed }, spec, theta0: measured, atEnd: null,
      backend: { name: info.name, tfjsVersion: info.tfjsVersion, device: info.deviceLabel },
    }));
  },
});
