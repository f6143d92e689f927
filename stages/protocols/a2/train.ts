// Stage 'train-a2': A.2's nets and their linearizations, trained side by side (Figure 4).
import { Type } from '@sinclair/typebox';
import { gridSizes, trainingStage } from '../../train/stage.ts';
import { readSplit } from '../../train/inputs.ts';
import { A2Config } from './config.ts';
import { a2Job } from './job.ts';

export const trainA2Stage = trainingStage({
  name: 'train-a2',
  protocol: 'a2',
  module: import.meta.url,
  description: 'A.2: SGD of a GELU MLP and its linearization on MNIST, eta = lr0 n^alpha (Figure 4)',
  params: { a2: Type.Omit(A2Config, ['widths', 'seeds', 'alphas']) },
  matrix: {
    dataset: { values: ['mnist'] },
    alpha: { key: 'a2.alphas', prefix: 'a' },
    width: { key: 'a2.widths', prefix: 'w' },
    seed: { key: 'a2.seeds', prefix: 's' },
  },
  splits: ['train', 'test'],
  shape: ({ params: p, axes: a }) => ({
    sizes: gridSizes(a, p.a2.depth),
    batch: p.a2.batch,
    steps: p.a2.steps,
  }),
  job: async (ctx, hooks) => a2Job(await readSplit(ctx, 'train'), await readSplit(ctx, 'test'), ctx.params.a2,
    { width: ctx.axes.width as number, seed: ctx.axes.seed as number, alpha: ctx.axes.alpha as number }, hooks),
});
