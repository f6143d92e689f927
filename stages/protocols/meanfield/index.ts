// Negative control (issue 12): the same A.1 networks in the mean-field parameterization, where
// the linearization should not become exact with width, next to the NTK case on the same grid.
// The paper's equivalence (weak correlations <=> linearization) predicts no decay in either
// the correlations or f - f_lin there.
import type { CorrelationResult } from '../../contracts/correlation-result.ts';
import type { Expectation, FitGroupResult, Row } from '../../contracts/fits.ts';
import { floorColumns, type TrainResult } from '../../contracts/train-result.ts';
import { DATA_NOTE, headline, keyLabel, scalingFigure } from '../../page/build.ts';
import type { FigureInput } from '../../page/html.ts';
import { interval, num, slopeText, where } from '../claim-helpers.ts';
import { fittedWidths, groupSlope, measuredOf } from '../claims.ts';
import { judgeBound } from '../../stats/verdict.ts';
import { defineProtocol, read, type Claim, type FitSpec, type Verdict } from '../protocol.ts';
import { MeanFieldConfig } from './config.ts';
import { correlateMeanFieldStage, trainMeanFieldStage } from './stages.ts';

type Table = 'mf-train' | 'mf-corr';
const KEYS = ['parameterization', 'dataset', 'activation', 'depth'];

/** A slope above this counts as "no decay" (a quarter of the finite-width 1/n rate). */
export const NO_DECAY_SLOPE = -0.25;
/** Theorem 3.2's bound on the NTK's C^{0,3} slope, the mean-field control's counterpart. */
export const NTK_C03_BOUND = -0.75;

interface NetKey { parameterization: string; dataset: string; activation: string; depth: number; width: number; seed: number }
const netKey = (model: { parameterization: string }, p: Omit<NetKey, 'parameterization'>): NetKey =>
  ({ parameterization: model.parameterization, dataset: p.dataset, activation: p.activation, depth: p.depth, width: p.width, seed: p.seed });

export function mfTrainRows(results: TrainResult[]): Row[] {
  return results.map((r) => ({
    ...netKey(r.model, r.point), status: r.status, lr: r.lr,
    eq24Test: r.final?.eq24Test ?? null, mseTest: r.final?.mseTest ?? null, lossGap: r.final?.lossGap ?? null,
    ...floorColumns(r.final),
  }));
}

export function mfCorrRows(results: CorrelationResult[]): Row[] {
  return results.map((r) => ({ ...netKey(r.model, r.point), c01: r.exact.c01.rms, c02: r.exact.c02.rms, c03: r.exact.c03.rms }));
}

/** NTK: the theorem's bound; mean-field: what the paper's equivalence predicts (no decay). */
const expect = (ntkBound: number, what: string) => (k: FitGroupResult['key']): Expectation[] =>
  k.parameterization === 'meanfield'
    ? [{ label: `mean-field, ${what}: no decay expected (slope 0)`, slope: 0 }]
    : [{ label: `NTK, ${what}: bound slope ≤ ${ntkBound}`, slope: ntkBound }];

const fit = (metric: string, table: Table, value: string, e: FitSpec<Table>['expectations']): FitSpec<Table> => ({ metric, table, keys: KEYS, value, expectations: e });

/**
 * Rule: the control holds when every mean-field group's slope interval reaches above
 * NO_DECAY_SLOPE (no decay detected) while the NTK groups of the same nets do decay (interval
 * below it). Mean-field decaying is reported as steeper than the paper's prediction.
 */
export function controlVerdict(mf: FitGroupResult[], ntk: FitGroupResult[]): { verdict: Verdict; why: string } {
  const mfI = mf.map(interval);
  if (!mf.length || mfI.some((i) => i === null)) return { verdict: 'inconclusive', why: 'no slope interval for a mean-field group (fewer than 2 seeds or widths)' };
  const decays = mfI.filter((i) => i![1] < NO_DECAY_SLOPE).length;
  if (decays) return { verdict: 'contradicts the prediction', why: `${decays} of ${mf.length} mean-field group(s) decay (interval below ${num(NO_DECAY_SLOPE)}); the equivalence predicts no decay` };
  const ntkI = ntk.map(interval);
  const ntkDecays = ntkI.filter((i) => i !== null && i[1] < NO_DECAY_SLOPE).length;
  return {
    verdict: 'holds',
    why: `no mean-field group decays (every interval reaches above ${NO_DECAY_SLOPE}); ${ntkDecays} of ${ntk.length} NTK group(s) of the same nets do`,
  };
}

export const meanFieldProtocol = defineProtocol<Table>()({
  id: 'meanfield',
  title: 'Negative control: mean-field vs NTK parameterization',
  config: { meanfield: MeanFieldConfig },
  stages: [trainMeanFieldStage, correlateMeanFieldStage],
  reads: { 'train-meanfield': read(trainMeanFieldStage, 'result'), 'correlate-meanfield': read(correlateMeanFieldStage, 'result') },
  tables: (all) => ({
    'mf-train': mfTrainRows(all('train-meanfield')),
    'mf-corr': mfCorrRows(all('correlate-meanfield')),
  }),
  counted: ['mf-train', 'mf-corr'],
  fits: [
    fit('mf-c02', 'mf-corr', 'c02', expect(-0.5, 'C^{0,2}')),
    fit('mf-c03', 'mf-corr', 'c03', expect(-0.75, 'C^{0,3}')),
    fit('mf-eq24', 'mf-train', 'eq24Test', expect(-0.5, 'f − f_lin')),
  ],
  headline: (v) => [
    ...headline(v.groups('mf-c02'), (g) => `Control: C^{0,2} vs width, ${keyLabel(g.key)}`),
    ...headline(v.groups('mf-eq24'), (g) => `Control: Eq. 24 (test) vs width, ${keyLabel(g.key)}`),
  ],
  figures: (v) => {
    const out: FigureInput[] = [];
    const corr = v.rows('mf-corr');
    const ok = v.rows('mf-train').filter((r) => r.status === 'ok');
    const note = 'Left: NTK parameterization (eta = lr0); right: mean-field (output layer σ_w/n, eta = lr0·n), same nets, images and seeds.';
    if (corr.length) {
      out.push(scalingFigure({ id: 'mf-c02', groups: v.groups('mf-c02'), rows: corr, y: 'c02', panelBy: KEYS, title: 'Negative control: C^{0,2} at initialization vs width, NTK vs mean-field', yTitle: 'C^{0,2} (RMS)', caption: `${note} ${DATA_NOTE}` }));
      out.push(scalingFigure({ id: 'mf-c03', groups: v.groups('mf-c03'), rows: corr, y: 'c03', panelBy: KEYS, title: 'Negative control: C^{0,3} at initialization vs width, NTK vs mean-field', yTitle: 'C^{0,3} (RMS)', caption: `${note} ${DATA_NOTE}` }));
    }
    if (ok.length)
      out.push(scalingFigure({ id: 'mf-eq24', groups: v.groups('mf-eq24'), rows: ok, y: 'eq24Test', panelBy: KEYS, title: 'Negative control: f − f_lin after training (Eq. 24, test samples) vs width, NTK vs mean-field', yTitle: 'C(f, f_lin), Eq. 24', caption: `${note} Diverged runs are left out. ${DATA_NOTE}` }));
    return out;
  },
  claims: (v) => {
    // One row for the control: C^{0,3} at init and f - f_lin after training, together. Not C^{0,2}:
    // for the same theta0, C^{0,d}_MF = n^((d-1)/2) C^{0,d}_NTK exactly (without output bias), so
    // C^{0,2}_MF ~ n^(-1/2) is arithmetic; the equivalence's test is C^{0,3}, which stays O(1).
    const all = [...v.groups('mf-c03'), ...v.groups('mf-eq24')];
    const mf = where(all, { parameterization: 'meanfield' });
    const ntk = where(all, { parameterization: 'ntk' });
    if (!mf.length) return [];
    const control = controlVerdict(mf, ntk);
    const ntkC03 = where(v.groups('mf-c03'), { parameterization: 'ntk' });
    const ntkBound = ntkC03.length ? judgeBound(ntkC03.map(groupSlope), NTK_C03_BOUND) : null;
    const verdict = control.verdict;
    const why = [control.why, ntkBound ? `NTK C^{0,3} against its bound ${num(NTK_C03_BOUND)}: ${ntkBound.verdict} (${ntkBound.why})` : ''].filter(Boolean).join('; ');
    const claims: Claim[] = [{
      claim: 'Negative control (mean-field): C^{0,3} and f − f_lin do not decay',
      source: 'Theorem 3.1 (equivalence), read as a control', kind: 'control',
      paper: 'equivalence: no weak correlations ⇔ no linearization',
      bound: `no decay: slope > ${num(NO_DECAY_SLOPE)} (NTK here: ${ntk.map(slopeText).join(', ') || 'n/a'})`,
      // A lower limit, not an upper bound: the slope chart draws no bound tick for it.
      paperSlope: null, boundSlope: null,
      groups: mf.map((g) => g.id),
      measured: measuredOf(mf),
      widths: { here: fittedWidths(mf), paper: null },
      verdict, why, paperVerdict: null, regime: null,
    }];
    return claims;
  },
});
