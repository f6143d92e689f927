// Stage 'fit': one task over every train and correlate result: OLS of log y on log width per
// group with a seed-bootstrap CI (science.md, "Fits").
import { readFileSync } from 'node:fs';
import type { Json, JsonObject, StageDecl, TaskContext } from '../../pipeline/engine/types.ts';
import { a1Rows, a2Rows, corrRows, dynamicsRows, fitAll, type CorrelationLike, type TrainResultLike } from './collect.ts';

const fitsSchema = JSON.parse(readFileSync(new URL('../../schemas/fits.schema.json', import.meta.url), 'utf8')) as JsonObject;

async function readAll<T>(ctx: TaskContext, stage: string, output: string): Promise<T[]> {
  return Promise.all((ctx.inputs[stage] ?? []).map((t) => ctx.readJson<T>(t.outputs[output]!)));
}

export const fitStage: StageDecl = {
  name: 'fit',
  module: import.meta.url,
  description: 'Power-law fits of linearization error and correlations vs width, with bootstrap CIs',
  params: ['fit.bootstrap', 'fit.seed'],
  needs: [
    { stage: 'train-a1', on: {}, outputs: ['result'] },
    { stage: 'train-a2', on: {}, outputs: ['result'] },
    { stage: 'correlate', on: {}, outputs: ['result'] },
  ],
  outputs: { fits: { kind: 'json', schema: fitsSchema } },
  metrics: {
    headline: true,
    read(outputs) {
      const fits = outputs.fits as unknown as { groups: { id: string; fit: { slope: number; r2: number; nPoints: number; ci?: { lo: number; hi: number } } }[] };
      const out: Record<string, number | null> = {};
      for (const g of fits.groups) {
        out[`${g.id} slope`] = g.fit.slope;
        out[`${g.id} ci95 lo`] = g.fit.ci?.lo ?? null;
        out[`${g.id} ci95 hi`] = g.fit.ci?.hi ?? null;
        out[`${g.id} r2`] = g.fit.r2;
        out[`${g.id} points`] = g.fit.nPoints;
      }
      return out;
    },
  },
  async run(ctx) {
    const train = [...(await readAll<TrainResultLike>(ctx, 'train-a1', 'result')), ...(await readAll<TrainResultLike>(ctx, 'train-a2', 'result'))];
    const corr = await readAll<CorrelationLike>(ctx, 'correlate', 'result');
    const opts = { resamples: ctx.params['fit.bootstrap'] as number, seed: ctx.params['fit.seed'] as number };
    const a1 = a1Rows(train);
    const a2 = a2Rows(train);
    const correlations = corrRows(corr);
    const groups = fitAll(a1, a2, correlations, opts);
    const backends = [...new Set(train.map((r) => `${r.backend.name}${r.backend.device ? ` on ${r.backend.device}` : ''} (tfjs ${r.backend.tfjsVersion})`))];
    ctx.log(`${groups.length} fit group(s) over ${a1.length} A.1 runs, ${a2.length} A.2 runs, ${correlations.length} correlation tasks`);
    await ctx.writeJson('fits', {
      schema: 'weakcorr/fits@1',
      bootstrap: opts,
      groups: groups as unknown as Json,
      rows: { a1, a2, correlations, dynamics: dynamicsRows(train) },
      counts: { a1: a1.length, a2: a2.length, correlations: correlations.length, diverged: train.filter((r) => r.status === 'diverged').length },
      runtime: {
        backends,
        trainGflop: train.reduce((s, r) => s + r.flops, 0) / 1e9,
      },
    });
  },
};
