// Stage 'train-a1': A.1's nets and their linearizations, trained side by side.
import { Type } from '@sinclair/typebox';
import { gridSizes, trainingStage } from '../../train/stage.ts';
import { readSplit } from '../../train/inputs.ts';
import { A1Config } from './config.ts';
import { A1_GRID, a1Job, a1Point } from './job.ts';

export const trainA1Stage = trainingStage({
  name: 'train-a1',
  protocol: 'a1',
  module: import.meta.url,
  description: 'A.1: full-batch GD of an MLP and its linearization (Figures 2, dynamics)',
  params: {
    a1: Type.Omit(A1Config, ['datasets', 'activations', 'depths', 'widths', 'seeds']),
    // Only A.1 parameters are ever read after training (correlate.atEnd), so only train-a1 declares it.
    correlate: { atEnd: Type.Boolean() },
  },
  matrix: A1_GRID,
  splits: ['train'],
  keepParams: (p) => p.correlate.atEnd,
  shape: ({ params: p, axes: a }) => ({
    sizes: gridSizes(a),
    batch: p.a1.trainSamples,
    steps: p.a1.steps,
  }),
  job: async (ctx, hooks) => a1Job(await readSplit(ctx, 'train'), ctx.params.a1, a1Point(ctx.axes), hooks),
});
