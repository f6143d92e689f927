// Protocol A.1 (Figures 1-3): derivative correlations at init and the linearization error of
// full-batch GD, per dataset, activation and depth.
import type { Expectation, FitGroupResult } from '../../contracts/fits.ts';
import { correlateStage } from './correlate/index.ts';
import { dynamicsChart, estimatorChart } from '../../page/charts/index.ts';
import { DATA_NOTE, headline, keyLabel, scalingFigure } from '../../page/build.ts';
import type { FigureInput } from '../../page/html.ts';
import { claimFrom, fittedWidths, PAPER_WIDTHS, trainingStatus } from '../claims.ts';
import { defineProtocol, read, type FitSpec, type GroupKey } from '../protocol.ts';
import { A1Config, CorrelateConfig } from './config.ts';
import { a1Rows, corrRows, dynamicsRows } from './tables.ts';
import { trainA1Stage } from './train.ts';

type Table = 'a1' | 'correlations' | 'dynamics';

/** f - f_lin ~ n^{-1/2} at a fixed learning rate (Theorem 3.1 with m(n) = sqrt(n)). */
export const THEORY_ERROR_SLOPE = -0.5;

/** C^{0,d} ~ n^{-1/2} (Theorem 3.1) or n^{-d/4} (Theorem 3.2). */
export function theoryCorrelationSlopes(d: number): { thm31: number; thm32: number } {
  return { thm31: -0.5, thm32: -d / 4 };
}

const BY_ARCH = ['dataset', 'activation', 'depth'];
const slopeText = (v: number): string => (v < 0 ? `−${-v}` : String(v));
const errorBound = (what: string, slope: number): Expectation[] => [{ label: `bound: slope ≤ ${slopeText(slope)} (${what}, Thm 3.1 at fixed η)`, slope }];

/** ReLU with one hidden layer: f is piecewise bilinear in theta, so C^{0,3} is exactly 0 (nothing to fit). */
export const reluC03Zero = (k: GroupKey): boolean => k.activation === 'relu' && k.depth === 1;
export const RELU_C03_ZERO = 'exactly 0 by construction (ReLU, 1 hidden layer: f is piecewise bilinear in θ)';

/** The exact correlations' reference lines: two O() bounds and the finite-width 1/n expectation. */
export function correlationExpectations(d: number): Expectation[] {
  const t = theoryCorrelationSlopes(d);
  const bounds: Expectation[] = t.thm31 === t.thm32
    ? [{ label: `bound: slope ≤ ${slopeText(t.thm31)} (Thm 3.1, Thm 3.2)`, slope: t.thm31 }]
    : [{ label: `bound: slope ≤ −1/2 (Thm 3.1)`, slope: t.thm31 }, { label: `bound: slope ≤ −${d}/4 (Thm 3.2)`, slope: t.thm32 }];
  return [...bounds, { label: '1/n expectation: slope −1 (Dyer & Gur-Ari)', slope: -1 }];
}
const corrExp = (d: number) => (k: GroupKey): Expectation[] => (d === 3 && reluC03Zero(k) ? [] : correlationExpectations(d));
const fit = (metric: string, table: Table, value: string, expectations: FitSpec<Table>['expectations']): FitSpec<Table> =>
  ({ metric, table, keys: BY_ARCH, value, expectations });

const ESTIMATOR_CAPTION = 'Each point is one network: x the exact RMS correlation, y the sampled estimator\'s (Eq. 25) RMS over the same samples and outputs (absolute values, log axes). ' +
  'The sampled estimator is not an estimate of the exact value: it divides by |D|^2 pairs drawn from ~n^2 parameters, most of whose mixed derivatives are exactly zero, so its width dependence differs and it gets no theorem line. ' +
  'The diagonal marks equal values only; points need not lie on it: compare trends in width, not values. ' +
  'Sampling here: correlate.sampledSetSize indices per layer (weights and biases pooled), drawn without replacement, one set per net seed; ' +
  'the authors\' code: 10 weights + 10 biases per layer, with replacement (the paper states |D| = 60 per layer).';

const SAMPLE_PROTOCOL = 'A.1 sample as in the authors\' code: 128 training + 32 test images from one permutation of the train split, full-batch gradient descent (the paper\'s text: 160 training samples, mini-batch); with a1.drawPerSeed each seed draws its own 160 images.';

/** Our A.1 figures' counterparts in the paper (the report lists them, ours -> paper). */
const PAPER_FIGURE: Record<string, string> = {
  'fig1-c02': 'Fig. 1 (it plots the Eq. 25 estimator; this figure the exact value)',
  'fig3-c03': 'Fig. 3 (it plots the Eq. 25 estimator; this figure the exact value)',
  'fig2-lossgap-rel': 'Fig. 2',
  estimators: 'Figs. 1 and 3 plot the sampled estimator on this figure\'s y axis',
};

const exceptReluZero = (gs: FitGroupResult[]): FitGroupResult[] => gs.filter((g) => !reluC03Zero(g.key));

export const a1Protocol = defineProtocol<Table>()({
  id: 'a1',
  title: 'A.1: correlations and linearization error vs width',
  config: { a1: A1Config, correlate: CorrelateConfig },
  stages: [trainA1Stage, correlateStage],
  reads: { 'train-a1': read(trainA1Stage, 'result'), correlate: read(correlateStage, 'result') },
  tables: (all) => {
    const train = all('train-a1');
    return { a1: a1Rows(train), correlations: corrRows(all('correlate')), dynamics: dynamicsRows(train) };
  },
  counted: ['a1', 'correlations'],
  fits: [
    fit('fig1-c02', 'correlations', 'c02', corrExp(2)),
    fit('fig3-c03', 'correlations', 'c03', corrExp(3)),
    // The Eq. 25 estimator has its own width dependence: no theorem line (docs/science.md, "Fits").
    fit('c02-sampled', 'correlations', 'c02Sampled', () => []),
    fit('c03-sampled', 'correlations', 'c03Sampled', () => []),
    fit('fig2-lossgap', 'a1', 'lossGap', () => errorBound('absolute loss gap ~ f − f_lin', THEORY_ERROR_SLOPE)),
    fit('fig2-lossgap-rel', 'a1', 'lossGapRel', () => errorBound('relative loss gap ~ f − f_lin', THEORY_ERROR_SLOPE)),
    fit('eq24-test', 'a1', 'eq24Test', () => errorBound('f − f_lin', THEORY_ERROR_SLOPE)),
    fit('a1-mse', 'a1', 'mseTest', () => errorBound('(f − f_lin)²', 2 * THEORY_ERROR_SLOPE)),
  ],
  headline: (v) => [
    ...headline(v.groups('fig1-c02'), (g) => `C^{0,2} vs width (exact; cf. paper Fig. 1, which plots Eq. 25), ${keyLabel(g.key)}`, PAPER_WIDTHS.a1),
    ...headline(v.groups('fig3-c03'), (g) => `C^{0,3} vs width (exact; cf. paper Fig. 3, which plots Eq. 25), ${keyLabel(g.key)}${reluC03Zero(g.key) ? `: ${RELU_C03_ZERO}` : ''}`, PAPER_WIDTHS.a1),
    ...headline(v.groups('fig2-lossgap-rel'), (g) => `Relative loss gap |L(f) − L(f_lin)| / L(f) vs width (paper Fig. 2), ${keyLabel(g.key)}`, PAPER_WIDTHS.a1),
    ...headline(v.groups('fig2-lossgap'), (g) => `Absolute loss gap |L(f) − L(f_lin)| vs width, ${keyLabel(g.key)}`, PAPER_WIDTHS.a1),
    ...headline(v.groups('eq24-test'), (g) => `Eq. 24 on test samples vs width, ${keyLabel(g.key)}`, PAPER_WIDTHS.a1),
  ],
  // One row per claim as the paper states it, each over every (dataset, activation, depth) group.
  claims: (v) => {
    const zero = v.groups('fig3-c03').filter((g) => reluC03Zero(g.key));
    const c03 = exceptReluZero(v.groups('fig3-c03'));
    const smooth = c03.filter((g) => g.key.activation !== 'relu');
    const regime = trainingStatus(v.rows('a1'), fittedWidths([...v.groups('fig1-c02'), ...v.groups('fig3-c03'), ...v.groups('fig2-lossgap-rel'), ...v.groups('eq24-test')]));
    const zeroNote = zero.length ? `${zero.map((g) => keyLabel(g.key)).join(', ')}: ${RELU_C03_ZERO}, left out` : undefined;
    const claims = [
      v.groups('fig1-c02').length && claimFrom({
        claim: 'C^{0,2} decays with width (exact; cf. paper Fig. 1)', source: 'Theorem 3.1 (C^{0,d} = O(1/m(n)), m = √n), Fig. 1', kind: 'theorem',
        paper: 'decays with width (Fig. 1 plots the Eq. 25 estimator)',
        bound: 'slope ≤ −1/2', boundSlope: -0.5, paperWidths: PAPER_WIDTHS.a1, groups: v.groups('fig1-c02'),
      }),
      c03.length && claimFrom({
        claim: 'C^{0,3} decays with width (exact; cf. paper Fig. 3)', source: 'Theorem 3.2 (C^{0,d} = O(m^{−d/2})), Fig. 3', kind: 'theorem',
        paper: 'decays with width (Fig. 3 plots the Eq. 25 estimator)',
        bound: 'slope ≤ −3/4', boundSlope: -0.75, paperWidths: PAPER_WIDTHS.a1, groups: c03, note: zeroNote,
      }),
      smooth.length && claimFrom({
        claim: 'C^{0,3} falls like n^{−3/2} for smooth activations', source: 'Appendix G.4 (heuristic: n^{−d/2} for odd d)', kind: 'heuristic',
        paper: 'G.4 heuristic: slope −3/2 (erf, sigmoid)', bound: null, boundSlope: null, paperWidths: PAPER_WIDTHS.a1, groups: smooth,
        paperOf: () => -1.5,
        note: 'finite-width theory (Dyer & Gur-Ari) expects 1/n (slope −1) for smooth activations instead',
      }),
      v.groups('eq24-test').length && claimFrom({
        claim: 'Linearization error (Eq. 24, test samples) decays with width', source: 'Theorem 3.1 at fixed η (F − F_lin = O(1/m(n))), Eq. 24', kind: 'theorem',
        paper: null, bound: 'slope ≤ −1/2', boundSlope: THEORY_ERROR_SLOPE, paperWidths: PAPER_WIDTHS.a1, groups: v.groups('eq24-test'), regime,
      }),
      v.groups('fig2-lossgap-rel').length && claimFrom({
        claim: 'Relative loss gap |L(f) − L(f_lin)| / L(f) decays with width (paper Fig. 2)', source: 'Fig. 2 (no theorem bounds the relative gap)', kind: 'heuristic',
        paper: 'decays with width (Fig. 2)',
        bound: 'heuristic: slope ≤ −1/2 (Thm 3.1 applied to the gap)', boundSlope: THEORY_ERROR_SLOPE, paperWidths: PAPER_WIDTHS.a1, groups: v.groups('fig2-lossgap-rel'), regime,
      }),
    ];
    return claims.filter((c) => c !== 0);
  },
  figures: (v) => {
    const out: FigureInput[] = [];
    const correlations = v.rows('correlations');
    const ok = v.rows('a1').filter((r) => r.status === 'ok');
    const scaling = (id: string, rows: typeof ok, y: string, title: string, yTitle: string, caption: string) =>
      out.push(scalingFigure({ id, groups: v.groups(id), rows, y, title, yTitle, caption, panelBy: BY_ARCH, ...(PAPER_FIGURE[id] ? { paperFigure: PAPER_FIGURE[id] } : {}) }));
    if (correlations.length) {
      scaling('fig1-c02', correlations, 'c02', 'Second-order correlation C^{0,2} at initialization vs width (exact; cf. paper Fig. 1, which plots Eq. 25)', 'C^{0,2} (RMS over samples and outputs)', `Exact C^{0,2} by Taylor mode. ${DATA_NOTE}`);
      scaling('fig3-c03', correlations, 'c03', 'Third-order correlation C^{0,3} at initialization vs width (exact; cf. paper Fig. 3, which plots Eq. 25)', 'C^{0,3} (RMS)', `Exact C^{0,3} by Taylor mode. ${v.groups('fig3-c03').some((g) => reluC03Zero(g.key)) ? `ReLU with 1 hidden layer: ${RELU_C03_ZERO}, so nothing is drawn for it. ` : ''}${DATA_NOTE}`);
    }
    if (v.rows('a1').length) {
      scaling('fig2-lossgap-rel', ok, 'lossGapRel', 'Relative loss gap |L(f) − L(f_lin)| / L(f) after training vs width (A.1, cf. paper Fig. 2)', '|L(f) − L(f_lin)| / L(f) (train)', `Relative gap, as the paper's Fig. 2. ${SAMPLE_PROTOCOL} Diverged runs are left out and counted in the headline table. ${DATA_NOTE}`);
      scaling('fig2-lossgap', ok, 'lossGap', 'Absolute loss gap |L(f) − L(f_lin)| after training vs width (A.1)', '|L(f) − L(f_lin)| (train)', `Absolute gap (the paper's Fig. 2 plots the relative one). ${SAMPLE_PROTOCOL} ${DATA_NOTE}`);
      scaling('eq24-test', ok, 'eq24Test', 'Eq. 24 distance between f and f_lin on the test samples vs width (A.1)', 'C(f, f_lin), Eq. 24', `${SAMPLE_PROTOCOL} ${DATA_NOTE}`);
    }
    const dynamics = v.rows('dynamics');
    if (dynamics.length) {
      // One representative run per architecture: the smallest and largest width, seed 0.
      const widths = [...new Set(dynamics.map((r) => r.width as number))].sort((a, b) => a - b);
      const pick = new Set([widths[0], widths.at(-1)]);
      const seed0 = Math.min(...dynamics.map((r) => r.seed as number));
      const rows = dynamics.filter((r) => pick.has(r.width as number) && r.seed === seed0).map((r) => ({ ...r, width: `n = ${r.width}` }));
      out.push({
        id: 'dynamics', title: 'Training dynamics: the net and its linearization (A.1, train loss)',
        caption: `Train loss along full-batch GD of the net and of its linearization (colour) for the smallest and the largest width (dash), seed ${seed0}. Where the two colours overlap the linearization tracks the net. Data.`,
        spec: dynamicsChart({ rows, step: 'step', value: 'loss', model: 'model', split: 'width', panelBy: BY_ARCH, columns: 3, yTitle: 'train loss' }),
        data: rows,
      });
    }
    if (correlations.length) {
      const rows = correlations.flatMap((r) => {
        const net = { dataset: r.dataset, activation: r.activation, depth: r.depth, width: r.width, seed: r.seed };
        return [
          { ...net, order: 'C^{0,2}', exact: Math.abs(r.c02 as number), sampled: Math.abs(r.c02Sampled as number) },
          { ...net, order: 'C^{0,3}', exact: Math.abs(r.c03 as number), sampled: Math.abs(r.c03Sampled as number) },
        ];
      });
      out.push({
        id: 'estimators', title: 'Exact (Taylor mode) vs the paper\'s sampled estimator (Eq. 25)',
        caption: ESTIMATOR_CAPTION, paperFigure: PAPER_FIGURE.estimators!,
        spec: estimatorChart({ rows, x: 'exact', y: 'sampled', colorBy: 'order', tooltipFields: ['dataset', 'activation', 'depth', 'width', 'seed'], xTitle: 'exact (RMS)', yTitle: 'sampled, Eq. 25 (RMS)' }),
        data: rows,
      });
    }
    return out;
  },
});
