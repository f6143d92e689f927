// A toy protocol, added through the registry interface only: one stage that "trains" without tfjs
// (a closed-form error err = 3 w^-1 (1 + seed/10)), one table, one fit, one figure, one headline row.
import { Type } from '@sinclair/typebox';
import { defineStage, jsonOutput } from '../../../pipeline/engine/define-stage.ts';
import { TRAIN_RESULT_ID, TrainResultSchema, type TrainResult } from '../../../stages/contracts/train-result.ts';
import { headline, keyLabel, scalingFigure } from '../../../stages/page/build.ts';
import { defineProtocol, read } from '../../../stages/protocols/protocol.ts';

export const ToyConfig = Type.Object({
  widths: Type.Array(Type.Integer({ minimum: 1 })),
  seeds: Type.Array(Type.Integer({ minimum: 0 })),
  scale: Type.Number({ default: 3 }),
}, { additionalProperties: false });

const trainToy = defineStage({
  name: 'train-toy',
  module: import.meta.url,
  params: { toy: Type.Pick(ToyConfig, ['scale']) },
  matrix: { width: { key: 'toy.widths', prefix: 'w' }, seed: { key: 'toy.seeds', prefix: 's' } },
  json: { result: jsonOutput(TrainResultSchema) },
  async run(ctx) {
    const [width, seed] = [ctx.axes.width as number, ctx.axes.seed as number];
    const err = ctx.params.toy.scale / width * (1 + seed / 10);
    const result: TrainResult = {
      schema: TRAIN_RESULT_ID, protocol: 'toy',
      point: { dataset: 'none', activation: 'relu', depth: 1, width, seed, alpha: null },
      model: { dIn: 1, sizes: [1, width, 1], parameterization: 'ntk', sigmaW: 1, sigmaB: 0, parameters: 3 * width },
      lr: 1, lossScale: 1, steps: 0, stepsDone: 0, batch: 1, status: 'ok',
      final: { trainLossNet: 0, trainLossLin: 0, testLossNet: 0, testLossLin: 0, lossGap: err, lossGapRel: 0, eq24Train: 0, eq24Test: 0, mseTest: err, testCount: 1, mseTestFloor: 0, eq24TestFloor: 0, eq24TrainFloor: 0, lossGapFloor: 0 },
      log: [], flops: 1e9, backend: { name: 'toy', tfjsVersion: 'none' },
    };
    await ctx.write('result', result);
  },
});

export const toyProtocol = defineProtocol<'toy'>()({
  id: 'toy',
  title: 'toy: a closed-form error',
  config: { toy: ToyConfig },
  stages: [trainToy],
  reads: { 'train-toy': read(trainToy, 'result') },
  tables: (all) => ({
    toy: all('train-toy').map((r) => ({ width: r.point.width, seed: r.point.seed, status: r.status, err: r.final?.mseTest ?? null })),
  }),
  counted: ['toy'],
  fits: [{ metric: 'toy-err', table: 'toy', keys: [], value: 'err', expectations: () => [{ label: 'toy law: slope -1', slope: -1 }] }],
  headline: (v) => headline(v.groups('toy-err'), (g) => `Toy error vs width ${keyLabel(g.key)}`.trim()),
  figures: (v) => [scalingFigure({
    id: 'toy-err', groups: v.groups('toy-err'), rows: v.rows('toy'), y: 'err', panelBy: [],
    title: 'Toy error vs width', yTitle: 'err', caption: 'A closed form: err = 3 / w (1 + seed / 10).',
  })],
});
