// Theorem 3.2 in scope (issue 22): A.2 in the NTK parameterization, eta = lr0 n^beta with beta <= 0.
// The kernel is O(1) there, so eta_the is O(1) and r = eta/eta_the ∝ n^beta <= 1 at every width:
// the theorem's premise holds, and F − F_lin = O(r/m) with m = √n bounds the MSE slope by 2β − 1.
// The second-order expansion with C^{0,2} ∝ 1/n predicts 4β − 2 (docs/science.md, "Theorem 3.2 in
// scope"); each row is judged against the bound and says whether its interval tells the two apart.
import type { Expectation, FitGroupResult, Row } from '../../contracts/fits.ts';
import { DATA_NOTE, headline, scalingFigure } from '../../page/build.ts';
import type { Scope } from '../../stats/verdict.ts';
import { a2Rows } from '../a2/index.ts';
import { interval, num } from '../claim-helpers.ts';
import { claimFrom, fittedWidths, PAPER_WIDTHS, trainingStatus } from '../claims.ts';
import { defineProtocol, read } from '../protocol.ts';
import { A2NtkConfig } from './config.ts';
import { trainA2NtkStage } from './train.ts';

/** Theorem 3.2 (Eq. 19), m(n) = √n, r = n^β: F − F_lin = O(n^(β − 1/2)), squared: slope ≤ 2β − 1. */
export function ntkBoundSlope(beta: number): number {
  return 2 * beta - 1;
}

/** The second-order expansion: f − f_lin ≈ η² C^{0,2}-type terms ∝ n^(2β) / n, squared: 4β − 2 (ours). */
export function secondOrderSlope(beta: number): number {
  return 4 * beta - 2;
}

/** In scope for β ≤ 0 (r = n^β ≤ 1 given lr0 ≤ η_the, both O(1) in n); the config admits no other β. */
export function ntkScope(beta: number): Scope {
  return beta <= 0 ? { inScope: true } : { inScope: false, why: `β = ${beta}: r = n^${beta} > 1 grows with width (premise η < η_the)` };
}

export function ntkExpectations(beta: number): Expectation[] {
  return [
    { label: `Theorem 3.2 bound: slope ≤ 2β−1 = ${num(ntkBoundSlope(beta))}`, slope: ntkBoundSlope(beta), legend: 'Theorem 3.2 bound: slope ≤ 2β−1' },
    { label: `second-order expansion (ours, C^{0,2} ∝ 1/n): 4β−2 = ${num(secondOrderSlope(beta))}`, slope: secondOrderSlope(beta), legend: 'second-order expansion (ours): slope 4β−2' },
  ];
}

/**
 * Whether a group's two-sided interval tells the theorem's bound line 2β−1 from the second-order
 * prediction 4β−2 (it discriminates when it holds at most one of them), in one sentence.
 */
export function secondOrderNote(g: FitGroupResult, beta: number): string {
  const b = ntkBoundSlope(beta);
  const s = secondOrderSlope(beta);
  const pred = `second-order prediction 4β−2 = ${num(s)}`;
  const i = interval(g);
  if (!i) return `${pred}: no interval to compare (fewer than 2 seeds or widths)`;
  const has = (v: number): boolean => i[0] <= v && v <= i[1];
  const iv = `[${num(i[0])}, ${num(i[1])}]`;
  if (has(s) && has(b)) return `${pred}: the interval ${iv} holds both 2β−1 and 4β−2, so it does not discriminate`;
  if (has(s)) return `${pred}: inside the interval ${iv}, which excludes 2β−1 = ${num(b)}: it discriminates, for the second-order prediction`;
  if (has(b)) return `${pred}: outside the interval ${iv}, which holds 2β−1 = ${num(b)}: it discriminates, against the second-order prediction`;
  const where = i[1] < s ? 'steeper than both' : i[0] > b ? 'flatter than both' : 'between the two';
  return `${pred}: the interval ${iv} excludes both 2β−1 and 4β−2 (${where}): it discriminates, and matches neither`;
}

export interface A2NtkRow extends Row { beta: number; width: number; seed: number; status: string }

/** A.2's row table (a2Rows), its learning-rate exponent named beta. */
export function a2NtkRows(...args: Parameters<typeof a2Rows>): A2NtkRow[] {
  return a2Rows(...args).map(({ alpha, ...r }) => ({ beta: alpha, ...r }));
}

const betaOf = (g: FitGroupResult): number => g.key.beta as number;

export const a2NtkProtocol = defineProtocol<'a2-ntk'>()({
  id: 'a2-ntk',
  title: 'Theorem 3.2 in scope: A.2 in the NTK parameterization, eta = lr0 n^beta',
  config: { a2ntk: A2NtkConfig },
  stages: [trainA2NtkStage],
  reads: { 'train-a2-ntk': read(trainA2NtkStage, 'result') },
  tables: (all) => ({ 'a2-ntk': a2NtkRows(all('train-a2-ntk')) }),
  counted: ['a2-ntk'],
  fits: [{ metric: 'a2ntk-mse', table: 'a2-ntk', keys: ['beta'], value: 'mseTest', expectations: (k) => ntkExpectations(k.beta as number) }],
  headline: (v) => headline(v.groups('a2ntk-mse'), (g) => `Theorem 3.2 (A.2, NTK): MSE_test(f, f_lin) vs width, β = ${betaOf(g)}`),
  // One claim per beta: judged against the theorem's bound; the second-order prediction named beside it.
  claims: (v) => v.groups('a2ntk-mse').map((g) => {
    const beta = betaOf(g);
    const c = claimFrom({
      claim: `Theorem 3.2 in scope (A.2, NTK), β = ${beta}`,
      source: 'Theorem 3.2, Eq. 19 (m(n) = √n; r = η/η_the ∝ n^β ≤ 1)',
      kind: 'theorem',
      paper: `F − F_lin = O(r/m) = O(n^(β−1/2))`,
      bound: `slope ≤ 2β−1 = ${num(ntkBoundSlope(beta))} (second order: 4β−2 = ${num(secondOrderSlope(beta))})`,
      boundSlope: ntkBoundSlope(beta),
      // The paper has no run of this setting: no widths of its own to compare with (cleared below).
      paperWidths: PAPER_WIDTHS.fig4,
      groups: [g],
      scope: () => ntkScope(beta),
      regime: trainingStatus(v.rows('a2-ntk').filter((r) => r.beta === beta), fittedWidths([g])),
      note: secondOrderNote(g, beta),
    });
    return { ...c, widths: { here: c.widths.here, paper: null } };
  }),
  figures: (v) => v.rows('a2-ntk').length
    ? [scalingFigure({
      id: 'a2ntk-mse', groups: v.groups('a2ntk-mse'), rows: v.rows('a2-ntk').filter((r) => r.status === 'ok'), y: 'mseTest', panelBy: ['beta'],
      title: 'MSE_test(f, f_lin) after SGD vs width in the NTK parameterization, per learning-rate exponent β (Theorem 3.2 in scope)',
      yTitle: 'MSE_test(f, f_lin), Eq. 30',
      caption: `A.2's protocol (MNIST, 784-n-n-10 GELU, SGD batch 128) with the NTK parameterization and eta = lr0 · n^β, β ≤ 0, so r = η/η_the ≤ 1 at every width. ${DATA_NOTE} Dashed lines: Theorem 3.2's upper bound 2β−1 (m(n) = √n, r ∝ n^β), and the second-order expansion's 4β−2 (ours: f − f_lin ∝ η²/n with C^{0,2} ∝ 1/n; docs/science.md).`,
    })]
    : [],
});
