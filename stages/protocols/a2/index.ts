// Protocol A.2 (Figure 4): the linearization error after SGD as the learning rate scales with
// width, eta = lr0 n^alpha.
import type { Expectation, Row } from '../../contracts/fits.ts';
import { floorColumns, trainLossVsTrivial, type TrainResult } from '../../contracts/train-result.ts';
import { DATA_NOTE, headline, keyLabel, scalingFigure } from '../../page/build.ts';
import { claimFrom, fittedWidths, PAPER_WIDTHS, trainingStatus } from '../claims.ts';
import type { Scope } from '../../stats/verdict.ts';
import { defineProtocol, read } from '../protocol.ts';
import { A2Config } from './config.ts';
import { trainA2Stage } from './train.ts';

/** Paper, Figure 4 (A.2, MSE_test(f, f_lin) vs width), slope per learning-rate exponent alpha. */
export const PAPER_FIG4_SLOPES: Record<string, number> = { '0': -1.14, '-0.25': -1.14, '-0.5': -1.3, '-0.75': -1.73, '-1': -2.72 };

export function paperFig4Slope(alpha: number): number | null {
  return PAPER_FIG4_SLOPES[String(alpha)] ?? null;
}

/**
 * Theorem 3.2's upper bound on the MSE_test slope: F - F_lin = O(r(n)/m(n)) with m = sqrt(n) and
 * r = eta/eta_the = n^(alpha+1) (eta_the ~ 1/n, the paper's normalisation), squared: 2 alpha + 1.
 */
export function fig4BoundSlope(alpha: number): number {
  return 2 * alpha + 1;
}

/** Our reconstruction (eta treated as already normalised): 2 alpha - 1. The paper gives no number; not the theorem. */
export function theorySquaredErrorSlope(alpha: number): number {
  return 2 * alpha - 1;
}

/**
 * Theorem 3.2's scope at learning rate n^alpha: the rescaling r = eta/eta_the = n^(alpha+1) is
 * stated for eta < eta_the (r <= 1: alpha <= -1), and its proof takes r up to about m(n) = sqrt(n)
 * (alpha <= -1/2). Beyond that the bound says nothing.
 */
export function fig4Scope(alpha: number): Scope {
  if (alpha <= -1) return { inScope: true };
  if (alpha <= -0.5) return { inScope: true, edge: `α = ${alpha}: r = n^${(alpha + 1).toFixed(2)} > 1, outside the stated premise η < η_the, inside the proof's r ≲ m(n)` };
  return { inScope: false, why: `α = ${alpha}: r = η/η_the = n^${(alpha + 1).toFixed(2)} grows faster than m(n) = √n, beyond the theorem (premise η < η_the)` };
}

const sgn = (v: number): string => (v > 0 ? `+${v}` : v < 0 ? `−${-v}` : '0');

/** Reference lines: the Theorem 3.2 bound only where it is in scope; our 2α−1 reconstruction, labelled as ours. */
export function fig4Expectations(alpha: number): Expectation[] {
  return [
    ...(fig4Scope(alpha).inScope ? [{ label: `Theorem 3.2 bound: slope ≤ 2α+1 = ${sgn(fig4BoundSlope(alpha))}`, slope: fig4BoundSlope(alpha), legend: 'Theorem 3.2 bound: slope ≤ 2α+1' }] : []),
    { label: `our reconstruction (the paper gives no number): 2α−1 = ${sgn(theorySquaredErrorSlope(alpha))}`, slope: theorySquaredErrorSlope(alpha), legend: 'our reconstruction: slope 2α−1' },
  ];
}

export interface A2Row extends Row { alpha: number; width: number; seed: number; status: string; lr: number; mseTest: number | null; testLoss: number | null; testAcc: number | null; mseTestFloor: number | null; trainLossVsTrivial: number | null; kernelShare: number | null }

export function a2Rows(results: TrainResult[]): A2Row[] {
  return results.map((r) => ({
    alpha: r.point.alpha ?? 0, width: r.point.width, seed: r.point.seed, status: r.status, lr: r.lr,
    mseTest: r.final?.mseTest ?? null, testLoss: r.final?.testLossNet ?? null, testAcc: r.final?.testAccNet ?? null, mseTestFloor: floorColumns(r.final).mseTestFloor,
    trainLossVsTrivial: trainLossVsTrivial(r), kernelShare: r.kernelShare ?? null,
  }));
}

export const a2Protocol = defineProtocol<'a2'>()({
  id: 'a2',
  title: 'A.2: Figure 4, linearization error after SGD with eta = lr0 n^alpha',
  config: { a2: A2Config },
  stages: [trainA2Stage],
  reads: { 'train-a2': read(trainA2Stage, 'result') },
  tables: (all) => ({ a2: a2Rows(all('train-a2')) }),
  counted: ['a2'],
  fits: [{
    metric: 'fig4-mse', table: 'a2', keys: ['alpha'], value: 'mseTest',
    paper: (k) => paperFig4Slope(k.alpha as number),
    expectations: (k) => fig4Expectations(k.alpha as number),
  }],
  headline: (v) => headline(v.groups('fig4-mse'), (g) => `Fig. 4 (A.2): MSE_test(f, f_lin) vs width, ${keyLabel(g.key)}`, PAPER_WIDTHS.fig4),
  // One claim per alpha: the Theorem 3.2 bound where it is in scope, and the paper's slope where
  // the regime matches, judged apart.
  claims: (v) => v.groups('fig4-mse').map((g) => {
    const alpha = g.key.alpha as number;
    return claimFrom({
      claim: `Figure 4, α = ${alpha}`,
      source: 'Theorem 3.2 (r = η/η_the, η_the ∝ 1/n), Fig. 4',
      kind: 'theorem',
      paper: g.paper === null ? null : `slope ${sgn(g.paper)} (paper's data)`,
      bound: `slope ≤ 2α+1 = ${sgn(fig4BoundSlope(alpha))}`,
      boundSlope: fig4BoundSlope(alpha),
      paperWidths: PAPER_WIDTHS.fig4,
      groups: [g],
      scope: () => fig4Scope(alpha),
      regime: trainingStatus(v.rows('a2').filter((r) => r.alpha === alpha), fittedWidths([g])),
    });
  }),
  figures: (v) => v.rows('a2').length
    ? [scalingFigure({
      id: 'fig4-mse', paperFigure: 'Fig. 4', groups: v.groups('fig4-mse'), rows: v.rows('a2').filter((r) => r.status === 'ok'), y: 'mseTest', panelBy: ['alpha'],
      title: 'MSE_test(f, f_lin) after SGD vs width, per learning-rate exponent α (A.2, paper Fig. 4)',
      yTitle: 'MSE_test(f, f_lin), Eq. 30',
      caption: `eta = lr0 · n^α. ${DATA_NOTE} Dashed lines: Theorem 3.2's upper bound 2α+1 (with the paper's normalisation eta_the ~ 1/n), drawn only where the theorem's premise holds (α ≤ −1/2, at its edge above −1); our reconstruction 2α−1 (the paper gives no number); and the paper's own fitted slope (its data). The paper fitted widths ${PAPER_WIDTHS.fig4[0]}–${PAPER_WIDTHS.fig4[1]}; the widths here are in the headline table.`,
    })]
    : [],
});
