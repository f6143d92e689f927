// The fit stage over a set of protocols: one task reads every protocol's results, builds its row
// tables and fits each FitSpec (science.md, "Fits").
import type { NeedSpec, StageDecl } from '../../pipeline/engine/types.ts';
import { defineStage } from '../../pipeline/engine/define-stage.ts';
import { FITS_ID, FitsSchema, type Fits, type Row } from '../contracts/fits.ts';
import { jsonSchema } from '../contracts/common.ts';
import { TRAIN_RESULT_ID, type TrainResult } from '../contracts/train-result.ts';
import type { Protocol } from '../protocols/protocol.ts';
import { FitConfig } from './config.ts';
import { fitSpecGroups } from './groups.ts';

const backendLabel = (b: TrainResult['backend']): string => `${b.name}${b.device ? ` on ${b.device}` : ''} (tfjs ${b.tfjsVersion})`;
const byName = <T>(entries: [string, T][]): Record<string, T> => Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * `module` is the caller's module URL: its import graph (the protocols and this file) is the
 * stage's code fingerprint, so a change to any protocol's fits re-runs the fit.
 */
export function fitStageFor(protocols: Protocol[], module: string): StageDecl {
  // Several protocols may read one stage (ntk-inferiority reads train-a1): one need per stage.
  const outputsOf = new Map<string, Set<string>>();
  for (const p of protocols) for (const [stage, r] of Object.entries(p.reads)) outputsOf.set(stage, (outputsOf.get(stage) ?? new Set()).add(r.output));
  const needs: NeedSpec[] = [...outputsOf].map(([stage, outputs]) => ({ stage, on: {}, outputs: [...outputs] }));
  return defineStage({
    name: 'fit',
    module,
    description: 'Power-law fits of linearization error and correlations vs width, with t-intervals over per-seed slopes',
    params: { fit: FitConfig },
    needs,
    outputs: { fits: { kind: 'json', schema: jsonSchema(FitsSchema) } },
    metrics: {
      headline: true,
      read(outputs) {
        const fits = outputs.fits as unknown as Fits;
        const out: Record<string, number | null> = {};
        for (const g of fits.groups) {
          out[`${g.id} slope`] = g.fit.slope;
          out[`${g.id} ci95 lo`] = g.fit.ci?.lo ?? null;
          out[`${g.id} ci95 hi`] = g.fit.ci?.hi ?? null;
          out[`${g.id} boot95 lo`] = g.fit.bootstrap?.lo ?? null;
          out[`${g.id} boot95 hi`] = g.fit.bootstrap?.hi ?? null;
          out[`${g.id} r2`] = g.fit.r2;
          out[`${g.id} points`] = g.fit.nPoints;
        }
        return out;
      },
    },
    async run(ctx) {
      const opts = { resamples: ctx.params.fit.bootstrap, seed: ctx.params.fit.seed };
      const tables: [string, Row[]][] = [];
      const groups: Fits['groups'] = [];
      const counts: [string, number][] = [];
      const train: TrainResult[] = [];
      const read = new Map<string, unknown[]>();
      for (const p of protocols) {
        const results: Record<string, unknown[]> = {};
        for (const [stage, r] of Object.entries(p.reads)) {
          const key = `${stage}/${r.output}`;
          if (!read.has(key)) {
            const outputs = await ctx.allJson(stage, r.output);
            read.set(key, outputs);
            // Training runs are known by their contract, counted once however many protocols read them.
            train.push(...outputs.filter((o): o is TrainResult => (o as { schema?: unknown }).schema === TRAIN_RESULT_ID));
          }
          results[stage] = read.get(key)!;
        }
        const own = p.tables(results) as Record<string, Row[]>;
        tables.push(...Object.entries(own));
        counts.push(...p.counted.map((t): [string, number] => [t, own[t]!.length]));
        for (const spec of p.fits) groups.push(...fitSpecGroups(spec, own[spec.table]!, opts));
      }
      ctx.log(`${groups.length} fit group(s) over ${tables.map(([t, rows]) => `${rows.length} ${t} row(s)`).join(', ')}`);
      const fits: Fits = {
        schema: FITS_ID,
        bootstrap: opts,
        groups,
        rows: byName(tables),
        counts: { ...byName(counts), diverged: train.filter((r) => r.status === 'diverged').length },
        runtime: {
          backends: [...new Set(train.map((r) => backendLabel(r.backend)))].sort(),
          trainGflop: train.reduce((s, r) => s + r.flops, 0) / 1e9,
        },
      };
      await ctx.writeJson('fits', fits as unknown as import('../../pipeline/engine/types.ts').Json);
    },
  });
}
