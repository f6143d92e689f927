// The fit stage over a set of protocols: one task reads every protocol's results, builds its row
// tables and fits each FitSpec (docs/science.md, "Fits").
import { defineStage, guardOf, jsonOutput, type Need, type Stage } from '../../pipeline/engine/define-stage.ts';
import type { StageDecl, VerdictsDecl } from '../../pipeline/engine/types.ts';
import { FITS_ID, FitsSchema, type Fits, type Row } from '../contracts/fits.ts';
import { TrainResultSchema, type TrainResult } from '../contracts/train-result.ts';
import type { Protocol } from '../protocols/protocol.ts';
import { FitConfig } from './config.ts';
import { fitSpecGroups } from './groups.ts';
import { claimsOf, verdictRow } from './view.ts';

const backendLabel = (b: TrainResult['backend']): string => `${b.name}${b.device ? ` on ${b.device}` : ''} (tfjs ${b.tfjsVersion})`;
const byName = <T>(entries: [string, T][]): Record<string, T> => Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * `module` is the caller's module URL: its import graph (the protocols and this file) is the
 * stage's code fingerprint, so a change to any protocol's fits re-runs the fit.
 */
export type FitStage = Stage<'fit', { fits: Fits }, never>;

export function fitStageFor(protocols: Protocol[], module: string): FitStage {
  // Several protocols may read one stage (ntk-inferiority reads train-a1): one need per stage.
  const outputsOf = new Map<StageDecl, Set<string>>();
  for (const p of protocols) for (const r of Object.values(p.reads)) outputsOf.set(r.stage, (outputsOf.get(r.stage) ?? new Set()).add(r.output));
  const needs: Need<never>[] = [...outputsOf].map(([stage, outputs]) => ({ stage, on: {}, outputs: [...outputs] }));
  const stage: FitStage = defineStage({
    name: 'fit',
    module,
    description: 'Power-law fits of linearization error and correlations vs width, with t-intervals over per-seed slopes',
    params: { fit: FitConfig },
    check: (p) => (p.fit.widest === 1 ? "config 'fit.widest': one width fits no slope; give 0 (every width) or at least 2" : null),
    needs,
    json: { fits: jsonOutput(FitsSchema) },
    metrics: {
      headline: true,
      // One group per fit (its protocol's fit id and group key as coordinates), so `results` gives
      // dataset, activation, depth, alpha, ... their own columns beside the train rows'.
      read(output) {
        return output('fits').groups.map((g) => ({
          coords: { fit: g.metric, ...g.key },
          metrics: {
            slope: g.fit.slope,
            'ci95 lo': g.fit.ci?.lo ?? null,
            'ci95 hi': g.fit.ci?.hi ?? null,
            'boot95 lo': g.fit.bootstrap?.lo ?? null,
            'boot95 hi': g.fit.bootstrap?.hi ?? null,
            r2: g.fit.r2,
            points: g.fit.nPoints,
          },
        }));
      },
    },
    async run(ctx) {
      const opts = { resamples: ctx.params.fit.bootstrap, seed: ctx.params.fit.seed };
      const widest = ctx.params.fit.widest || undefined;
      const tables: [string, Row[]][] = [];
      const groups: Fits['groups'] = [];
      const counts: [string, number][] = [];
      const train: TrainResult[] = [];
      // Each stage output once, however many protocols read it; each protocol's read checks it
      // against the producer's contract.
      const raw = new Map<string, { id: string; value: unknown }[]>();
      const isTrainResult = guardOf(TrainResultSchema).is;
      for (const p of protocols) {
        const values = new Map<string, unknown[]>();
        for (const [name, r] of Object.entries(p.reads)) {
          const key = `${r.stage.name}/${r.output}`;
          let outputs = raw.get(key);
          if (!outputs) {
            outputs = await Promise.all((ctx.inputs[r.stage.name] ?? []).map(async (t) => {
              const ref = t.outputs[r.output];
              if (!ref) throw new Error(`${ctx.id}: upstream task ${t.id} has no output '${r.output}'`);
              return { id: t.id, value: await ctx.readJson<unknown>(ref) };
            }));
            raw.set(key, outputs);
            // Training runs are known by their contract, counted once however many protocols read them.
            for (const o of outputs) if (isTrainResult(o.value)) train.push(o.value);
          }
          values.set(name, outputs.map((o) => r.parse(o.value, `${o.id} output '${r.output}'`)));
        }
        const own: Record<string, Row[]> = p.tables((name) => {
          const v = values.get(name);
          if (!v) throw new Error(`protocol ${p.id} reads '${name}', which is not among its reads`);
          return v;
        });
        tables.push(...Object.entries(own));
        counts.push(...p.counted.map((t): [string, number] => [t, own[t]!.length]));
        for (const spec of p.fits) groups.push(...fitSpecGroups(spec, own[spec.table]!, opts, widest));
      }
      ctx.log(`${groups.length} fit group(s) over ${tables.map(([t, rows]) => `${rows.length} ${t} row(s)`).join(', ')}`);
      const fits: Fits = {
        schema: FITS_ID,
        bootstrap: opts,
        widest: widest ?? null,
        groups,
        rows: byName(tables),
        counts: { ...byName(counts), diverged: train.filter((r) => r.status === 'diverged').length },
        runtime: {
          backends: [...new Set(train.map((r) => backendLabel(r.backend)))].sort(),
          trainGflop: train.reduce((s, r) => s + r.flops, 0) / 1e9,
        },
      };
      await ctx.write('fits', fits);
    },
  });
  // The report's verdict table, one row per claim, read from the same output; `check` gates on
  // both judgments.
  const verdicts: VerdictsDecl = {
    gate: ['verdict', 'paper_verdict'],
    read: (outputs, task) => claimsOf(stage.json.fits.parse(outputs.fits, `${task.id} output 'fits'`), protocols).map((c) => verdictRow(c.protocol, c.claim)),
  };
  return { ...stage, metrics: { ...stage.metrics!, verdicts } };
}
