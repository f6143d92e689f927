// Stage 'train-teacher': the nets and their linearizations trained side by side by online SGD on
// the linear teacher (Corollary 4.0.1 where its hypothesis holds). Makes its own data: no fetch.
import { Type } from '@sinclair/typebox';
import { trainingStage } from '../../train/stage.ts';
import { CorollaryConfig, TEACHER_RUN_KEYS } from './config.ts';
import { TEACHER_OUTPUTS, teacherJob } from './teacher.ts';

export const trainTeacherStage = trainingStage({
  name: 'train-teacher',
  protocol: 'corollary',
  module: import.meta.url,
  description: 'Corollary 4.0.1: online SGD of an NTK-parameterized MLP and its linearization on a linear teacher with Gaussian inputs',
  params: { corollary: Type.Pick(CorollaryConfig, [...TEACHER_RUN_KEYS]) },
  matrix: {
    dataset: { values: ['teacher'] },
    width: { key: 'corollary.widths', prefix: 'w' },
    seed: { key: 'corollary.seeds', prefix: 's' },
  },
  splits: [],
  shape: ({ params: p, axes: a }) => ({
    sizes: [p.corollary.inputDim, ...Array.from({ length: p.corollary.depth }, () => Number(a.width)), TEACHER_OUTPUTS],
    batch: p.corollary.batch,
    steps: p.corollary.steps,
  }),
  job: async (ctx, hooks) => teacherJob(ctx.params.corollary, { width: ctx.axes.width as number, seed: ctx.axes.seed as number }, hooks),
});
