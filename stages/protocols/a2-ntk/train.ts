// Stage 'train-a2-ntk': A.2's nets in the NTK parameterization and their linearizations, trained
// side by side (Theorem 3.2 in scope).
import { Type } from '@sinclair/typebox';
import { gridSizes, trainingStage } from '../../train/stage.ts';
import { readSplit } from '../../train/inputs.ts';
import { A2NtkConfig } from './config.ts';
import { a2NtkJob } from './job.ts';

export const trainA2NtkStage = trainingStage({
  name: 'train-a2-ntk',
  protocol: 'a2-ntk',
  module: import.meta.url,
  description: 'Theorem 3.2 in scope: A.2 (SGD of a GELU MLP and its linearization on MNIST) in the NTK parameterization, eta = lr0 n^beta',
  params: { a2ntk: Type.Omit(A2NtkConfig, ['widths', 'seeds', 'betas']) },
  matrix: {
    dataset: { values: ['mnist'] },
    // The axis is named 'alpha' so the train-result records the exponent in point.alpha (A.2's
    // field for eta = lr0 n^alpha); this protocol calls it beta.
    alpha: { key: 'a2ntk.betas', prefix: 'b' },
    width: { key: 'a2ntk.widths', prefix: 'w' },
    seed: { key: 'a2ntk.seeds', prefix: 's' },
  },
  splits: ['train', 'test'],
  shape: ({ params: p, axes: a }) => ({
    sizes: gridSizes(a, p.a2ntk.depth),
    batch: p.a2ntk.batch,
    steps: p.a2ntk.steps,
  }),
  job: async (ctx, hooks) => a2NtkJob(await readSplit(ctx, 'train'), await readSplit(ctx, 'test'), ctx.params.a2ntk,
    { width: ctx.axes.width as number, seed: ctx.axes.seed as number, beta: ctx.axes.alpha as number }, hooks),
});
