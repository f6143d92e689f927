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
/** The grid's parameterization from a result's model: 'gamma0.25' is mean-field with outputExponent 1/4. */
const paramOf = (model: { parameterization: string; outputExponent?: number }): string =>
  model.parameterization === 'meanfield' && model.outputExponent !== undefined ? `gamma${model.outputExponent}` : model.parameterization;
const netKey = (model: { parameterization: string; outputExponent?: number }, p: Omit<NetKey, 'parameterization'>): NetKey =>
  ({ parameterization: paramOf(model), dataset: p.dataset, activation: p.activation, depth: p.depth, width: p.width, seed: p.seed });

/** The dose-response's arms: output exponent gamma and the C^{0,3} slope -1 + 2 gamma it predicts. */
export const DOSE: readonly { parameterization: string; gamma: number; predicted: number }[] = [
  { parameterization: 'ntk', gamma: 0, predicted: -1 },
  { parameterization: 'gamma0.25', gamma: 0.25, predicted: -0.5 },
  { parameterization: 'meanfield', gamma: 0.5, predicted: 0 },
];

/**
 * Rule for the dose-response over gamma (per dataset, activation, depth): the correlation rate
 * (C^{0,3}) and the linearization rate (||f - f_lin|| / ||f - f_0||) move together. Holds when both
 * slopes rise monotonically with gamma and, for both, the gamma = 1/2 interval lies above the
 * gamma = 0 one; contradicts when one rises so and the other falls so; else inconclusive.
 */
export function doseVerdict(c03: FitGroupResult[], linRel: FitGroupResult[]): { verdict: Verdict; why: string } {
  const arms = (gs: FitGroupResult[]) => DOSE.map((d) => gs.find((g) => g.key.parameterization === d.parameterization));
  const [c, l] = [arms(c03), arms(linRel)];
  if ([...c, ...l].some((g) => !g || g.fit.slope === null || !interval(g)))
    return { verdict: 'inconclusive', why: 'a gamma arm has no fitted slope interval (every gamma in 0, 1/4, 1/2 needs 2 seeds and 2 widths)' };
  const trend = (gs: FitGroupResult[]): 'rises' | 'falls' | 'unclear' => {
    const s = gs.map((g) => g!.fit.slope!);
    const [lo, hi] = [interval(gs[0]!)!, interval(gs[2]!)!];
    if (s[0]! < s[1]! && s[1]! < s[2]! && hi[0] > lo[1]) return 'rises';
    if (s[0]! > s[1]! && s[1]! > s[2]! && hi[1] < lo[0]) return 'falls';
    return 'unclear';
  };
  const [tc, tl] = [trend(c as FitGroupResult[]), trend(l as FitGroupResult[])];
  const c03Text = c.map((g, i) => `γ = ${DOSE[i]!.gamma}: ${slopeText(g!)} (predicted ${num(DOSE[i]!.predicted)})`).join(', ');
  const linText = l.map((g, i) => `γ = ${DOSE[i]!.gamma}: ${slopeText(g!)}`).join(', ');
  // How much each rate rises per step in gamma: C^{0,3}'s by exactly 1/2 (the identity), the linearization's as measured.
  const steps = (gs: (FitGroupResult | undefined)[]) => [1, 2].map((i) => num(gs[i]!.fit.slope! - gs[i - 1]!.fit.slope!)).join(', ');
  const text = `C^{0,3} ${c03Text}; ‖f − f_lin‖ / ‖f − f_0‖ ${linText}; rise per step of γ: C^{0,3} ${steps(c)}, linearization ${steps(l)}`;
  if (tc === 'rises' && tl === 'rises') return { verdict: 'holds', why: `both rates rise with γ (γ = 1/2 interval above γ = 0's): ${text}` };
  if ((tc === 'rises' && tl === 'falls') || (tc === 'falls' && tl === 'rises')) return { verdict: 'contradicts the prediction', why: `C^{0,3}'s rate ${tc} with γ, the linearization's ${tl}: ${text}` };
  return { verdict: 'inconclusive', why: `C^{0,3}'s rate: ${tc}, the linearization's: ${tl} with γ: ${text}` };
}

export function mfTrainRows(results: TrainResult[]): Row[] {
  return results.map((r) => ({
    ...netKey(r.model, r.point), status: r.status, lr: r.lr,
    eq24Test: r.final?.eq24Test ?? null, mseTest: r.final?.mseTest ?? null, lossGap: r.final?.lossGap ?? null,
    // How far f moved, f - f_lin relative to it, and how far the kernel moved (issue 22).
    fMoveTest: r.final?.fMoveTest ?? null, linRelTest: r.final?.linRelTest ?? null, kernelDrift: r.kernelDrift ?? null,
    ...floorColumns(r.final),
  }));
}

export function mfCorrRows(results: CorrelationResult[]): Row[] {
  return results.map((r) => ({ ...netKey(r.model, r.point), c01: r.exact.c01.rms, c02: r.exact.c02.rms, c03: r.exact.c03.rms }));
}

/**
 * NTK: the theorem's bound; mean-field: what the paper's equivalence predicts (no decay); gamma = 1/4
 * (the dose-response): only C^{0,3} has a prediction, the finite-width rate 1/n times n^(2 gamma)
 * (slope -1/2, from the exact identity C_gamma = n^(gamma (d-1)) C_NTK); its linearization rate is
 * measured, not predicted.
 */
const expect = (ntkBound: number, what: string, gammaSlope: number | null = null) => (k: FitGroupResult['key']): Expectation[] =>
  k.parameterization === 'meanfield'
    ? [{ label: `mean-field, ${what}: no decay expected (slope 0)`, slope: 0 }]
    : k.parameterization === 'gamma0.25'
      ? (gammaSlope === null ? [] : [{ label: `γ = 1/4, ${what}: NTK's 1/n times n^(2γ), slope ${num(gammaSlope)}`, slope: gammaSlope }])
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
    why: `no mean-field group decays (every interval reaches above ${num(NO_DECAY_SLOPE)}); ${ntkDecays} of ${ntk.length} NTK group(s) of the same nets do`,
  };
}

/**
 * Rule for the kernel drift: under NTK scaling the kernel freezes (drift ~ n^(-1/2), so every NTK
 * group's upper 95% limit must be < 0), under mean-field it moves O(1) (no group's interval below
 * NO_DECAY_SLOPE). A mean-field group that decays contradicts the prediction.
 */
export function driftVerdict(mf: FitGroupResult[], ntk: FitGroupResult[]): { verdict: Verdict; why: string } {
  const control = controlVerdict(mf, ntk);
  if (control.verdict !== 'holds') return control;
  if (!ntk.length) return { verdict: 'inconclusive', why: `${control.why.split(';')[0]}; no NTK group to compare` };
  // Only the sign is predicted here, so the plain interval, without judgeBound's curvature test.
  const ntkI = ntk.map(interval);
  const decaying = ntkI.filter((i) => i !== null && i[1] < 0).length;
  const slopes = ntk.map(slopeText).join(', ');
  if (decaying === ntk.length) return { verdict: 'holds', why: `no mean-field group's drift decays (every interval reaches above ${num(NO_DECAY_SLOPE)}); every NTK group's drift decays (interval below 0: ${slopes})` };
  return { verdict: 'inconclusive', why: `no mean-field group's drift decays, but the NTK drift's decay is not shown in ${ntk.length - decaying} of ${ntk.length} group(s) (${slopes})` };
}

/** "f moved 0.61 (RMS per sample) at n = 512" from the mean-field rows, median over seeds at the largest width. */
function movedText(rows: Row[]): string {
  const ok = rows.filter((r) => r.parameterization === 'meanfield' && r.status === 'ok' && typeof r.fMoveTest === 'number');
  if (!ok.length) return '';
  const n = Math.max(...ok.map((r) => r.width as number));
  const v = ok.filter((r) => r.width === n).map((r) => r.fMoveTest as number).sort((a, b) => a - b);
  return `mean-field f moved ‖f_S − f_0‖ = ${v[Math.floor(v.length / 2)]!.toPrecision(2)} (RMS over test samples, median over seeds) at n = ${n}`;
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
    fit('mf-c03', 'mf-corr', 'c03', expect(-0.75, 'C^{0,3}', -0.5)),
    fit('mf-eq24', 'mf-train', 'eq24Test', expect(-0.5, 'f − f_lin')),
    fit('mf-linrel', 'mf-train', 'linRelTest', expect(-0.5, '‖f − f_lin‖ / ‖f − f_0‖')),
    fit('mf-drift', 'mf-train', 'kernelDrift', expect(-0.5, 'kernel drift ‖Θ_S − Θ_0‖ / ‖Θ_0‖')),
  ],
  headline: (v) => [
    ...headline(v.groups('mf-c02'), (g) => `Control: C^{0,2} vs width, ${keyLabel(g.key)}`),
    ...headline(v.groups('mf-eq24'), (g) => `Control: Eq. 24 (test) vs width, ${keyLabel(g.key)}`),
    ...headline(v.groups('mf-drift'), (g) => `Control: kernel drift vs width, ${keyLabel(g.key)}`),
  ],
  figures: (v) => {
    const out: FigureInput[] = [];
    const corr = v.rows('mf-corr');
    const ok = v.rows('mf-train').filter((r) => r.status === 'ok');
    // Name only the arms drawn (the γ = 1/4 arm is optional).
    const arms = new Set([...corr, ...ok].map((r) => String(r.parameterization)));
    const armText: Record<string, string> = {
      ntk: 'ntk: the NTK parameterization (eta = lr0)',
      'gamma0.25': 'gamma0.25: output layer scaled n^(−3/4), output bias n^(−1/4), eta = lr0·√n',
      meanfield: 'meanfield: mean-field / μP (output layer σ_w/n, output bias σ_b/√n, eta = lr0·n)',
    };
    const note = `One panel per parameterization, named in its title: ${[...arms].map((a) => armText[a] ?? a).join('; ')}; the same nets, images and seeds.`;
    if (corr.length) {
      out.push(scalingFigure({ id: 'mf-c02', groups: v.groups('mf-c02'), rows: corr, y: 'c02', panelBy: KEYS, title: 'Negative control: C^{0,2} at initialization vs width, NTK vs mean-field', yTitle: 'C^{0,2} (RMS)', caption: `${note} ${DATA_NOTE}` }));
      out.push(scalingFigure({ id: 'mf-c03', groups: v.groups('mf-c03'), rows: corr, y: 'c03', panelBy: KEYS, title: 'Negative control: C^{0,3} at initialization vs width, NTK vs mean-field', yTitle: 'C^{0,3} (RMS)', caption: `${note} ${DATA_NOTE}` }));
    }
    if (ok.length) {
      out.push(scalingFigure({ id: 'mf-eq24', groups: v.groups('mf-eq24'), rows: ok, y: 'eq24Test', panelBy: KEYS, title: 'Negative control: f − f_lin after training (Eq. 24, test samples) vs width, NTK vs mean-field', yTitle: 'C(f, f_lin), Eq. 24', caption: `${note} Diverged runs are left out. ${DATA_NOTE}` }));
      const linRel = ok.filter((r) => typeof r.linRelTest === 'number');
      if (linRel.length)
        out.push(scalingFigure({ id: 'mf-linrel', groups: v.groups('mf-linrel'), rows: linRel, y: 'linRelTest', panelBy: KEYS, title: 'Negative control: f − f_lin relative to how far f moved, ‖f_S − f_lin‖ / ‖f_S − f_0‖ (test samples) vs width', yTitle: '‖f − f_lin‖ / ‖f − f_0‖', caption: `${note} NTK: the ratio decays like n^(−1/2); mean-field: O(1). Diverged runs are left out. ${DATA_NOTE}` }));
      const drift = ok.filter((r) => typeof r.kernelDrift === 'number');
      if (drift.length)
        out.push(scalingFigure({ id: 'mf-drift', groups: v.groups('mf-drift'), rows: drift, y: 'kernelDrift', panelBy: KEYS, title: 'Negative control: kernel drift ‖Θ_S − Θ_0‖_F / ‖Θ_0‖_F of the empirical NTK after training (test samples) vs width', yTitle: '‖Θ_S − Θ_0‖ / ‖Θ_0‖', caption: `${note} The empirical NTK on up to 64 test samples, all outputs, at θ0 and after training. NTK: the kernel freezes (∝ n^(−1/2)); mean-field: it moves O(1). ${DATA_NOTE}` }));
    }
    return out;
  },
  claims: (v) => {
    // One row for the control: C^{0,3} at init and f - f_lin after training, together. Not C^{0,2}:
    // for the same theta0, C^{0,d}_MF = n^((d-1)/2) C^{0,d}_NTK exactly (without output bias), so
    // C^{0,2}_MF ~ n^(-1/2) is arithmetic; the equivalence's test is C^{0,3}, which stays O(1).
    // f - f_lin relative to how far f moved: scale-free, so a mean-field f that barely moves
    // cannot pass for linearization.
    const all = [...v.groups('mf-c03'), ...v.groups('mf-linrel')];
    const mf = where(all, { parameterization: 'meanfield' });
    const ntk = where(all, { parameterization: 'ntk' });
    if (!mf.length) return [];
    const control = controlVerdict(mf, ntk);
    const ntkC03 = where(v.groups('mf-c03'), { parameterization: 'ntk' });
    const ntkBound = ntkC03.length ? judgeBound(ntkC03.map(groupSlope), NTK_C03_BOUND) : null;
    const verdict = control.verdict;
    const moved = movedText(v.rows('mf-train'));
    const why = [control.why, ntkBound ? `NTK C^{0,3} against its bound ${num(NTK_C03_BOUND)}: ${ntkBound.verdict} (${ntkBound.why})` : '', moved].filter(Boolean).join('; ');
    const claims: Claim[] = [{
      claim: 'Negative control (mean-field): C^{0,3} and ‖f − f_lin‖ / ‖f − f_0‖ do not decay',
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
    const mfDrift = where(v.groups('mf-drift'), { parameterization: 'meanfield' });
    const ntkDrift = where(v.groups('mf-drift'), { parameterization: 'ntk' });
    if (mfDrift.length) {
      const d = driftVerdict(mfDrift, ntkDrift);
      claims.push({
        claim: 'Negative control: the empirical NTK moves O(1) in training under mean-field, and freezes under NTK',
        source: 'Theorem 3.1 (equivalence), read as a control', kind: 'control',
        paper: 'kernel drift ‖Θ_S − Θ_0‖ / ‖Θ_0‖: decays under NTK scaling, O(1) under mean-field',
        bound: `mean-field: slope > ${num(NO_DECAY_SLOPE)}; NTK: slope < 0 (here ${ntkDrift.map(slopeText).join(', ') || 'n/a'})`,
        paperSlope: null, boundSlope: null,
        groups: [...mfDrift, ...ntkDrift].map((g) => g.id),
        measured: measuredOf([...mfDrift, ...ntkDrift]),
        widths: { here: fittedWidths(mfDrift), paper: null },
        verdict: d.verdict, why: d.why, paperVerdict: null, regime: null,
      });
    }
    const c03All = v.groups('mf-c03');
    if (where(c03All, { parameterization: 'gamma0.25' }).length) {
      const combos = where(c03All, { parameterization: 'gamma0.25' }).map((g) => ({ dataset: g.key.dataset, activation: g.key.activation, depth: g.key.depth }));
      for (const combo of combos) {
        const c = where(c03All, combo);
        const l = where(v.groups('mf-linrel'), combo);
        const d = doseVerdict(c, l);
        claims.push({
          claim: `Dose-response over the output exponent γ (κ = n^(−γ), η ∝ n^(2γ)): correlation and linearization rates move together, ${keyLabel(combo)}`,
          source: 'Theorem 3.1 (equivalence)', kind: 'control',
          paper: 'weak correlations ⇔ linearization: C^{0,3} slope −1 + 2γ = −1, −1/2, 0; the linearization rate should rise with it',
          bound: 'both slopes rise with γ (γ = 1/2 interval above γ = 0’s)',
          paperSlope: null, boundSlope: null,
          groups: [...c, ...l].map((g) => g.id),
          measured: measuredOf([...c, ...l]),
          widths: { here: fittedWidths(c), paper: null },
          verdict: d.verdict, why: d.why, paperVerdict: null, regime: null,
        });
      }
    }
    return claims;
  },
});
