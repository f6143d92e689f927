// Protocol A.1 (Figures 1-3): derivative correlations at init and the linearization error of
// full-batch GD, per dataset, activation and depth.
import type { CorrelationResult } from '../../contracts/correlation-result.ts';
import type { Expectation } from '../../contracts/fits.ts';
import type { TrainResult } from '../../contracts/train-result.ts';
import { correlateStage } from '../../correlate/index.ts';
import { dynamicsChart, estimatorChart } from '../../report/charts/index.ts';
import { DATA_NOTE, headline, keyLabel, scalingFigure } from '../../report/build.ts';
import type { FigureInput } from '../../report/html.ts';
import { defineProtocol, type FitSpec } from '../protocol.ts';
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
const fixedLr = (what: string, slope: number): Expectation[] => [{ label: `${what} at fixed eta: slope ${slope}`, slope }];
const corrExp = (d: number) => (): Expectation[] => {
  const t = theoryCorrelationSlopes(d);
  return [{ label: `Thm 3.1: slope ${t.thm31}`, slope: t.thm31 }, { label: `Thm 3.2: slope ${t.thm32}`, slope: t.thm32 }];
};
const fit = (metric: string, table: Table, value: string, expectations: FitSpec<Table>['expectations']): FitSpec<Table> =>
  ({ metric, table, keys: BY_ARCH, value, expectations });

export const a1Protocol = defineProtocol<Table>({
  id: 'a1',
  title: 'A.1: correlations and linearization error vs width',
  config: { a1: A1Config, correlate: CorrelateConfig },
  stages: [trainA1Stage, correlateStage],
  reads: { 'train-a1': { output: 'result', training: true }, correlate: { output: 'result' } },
  tables: (results) => {
    const train = results['train-a1'] as TrainResult[];
    return { a1: a1Rows(train), correlations: corrRows(results.correlate as CorrelationResult[]), dynamics: dynamicsRows(train) };
  },
  counted: ['a1', 'correlations'],
  fits: [
    fit('fig1-c02', 'correlations', 'c02', corrExp(2)),
    fit('fig3-c03', 'correlations', 'c03', corrExp(3)),
    fit('c02-sampled', 'correlations', 'c02Sampled', corrExp(2)),
    fit('c03-sampled', 'correlations', 'c03Sampled', corrExp(3)),
    fit('fig2-lossgap', 'a1', 'lossGap', () => fixedLr('|L(f) - L(f_lin)| ~ f - f_lin', THEORY_ERROR_SLOPE)),
    fit('eq24-test', 'a1', 'eq24Test', () => fixedLr('f - f_lin', THEORY_ERROR_SLOPE)),
    fit('a1-mse', 'a1', 'mseTest', () => fixedLr('(f - f_lin)^2', 2 * THEORY_ERROR_SLOPE)),
  ],
  headline: (v) => [
    ...headline(v.groups('fig1-c02'), (g) => `Fig. 1: C^{0,2} vs width (exact), ${keyLabel(g.key)}`),
    ...headline(v.groups('fig3-c03'), (g) => `Fig. 3: C^{0,3} vs width (exact), ${keyLabel(g.key)}`),
    ...headline(v.groups('fig2-lossgap'), (g) => `Fig. 2: |L(f) − L(f_lin)| vs width, ${keyLabel(g.key)}`),
    ...headline(v.groups('eq24-test'), (g) => `Eq. 24 on test samples vs width, ${keyLabel(g.key)}`),
  ],
  figures: (v) => {
    const out: FigureInput[] = [];
    const correlations = v.rows('correlations');
    const ok = v.rows('a1').filter((r) => r.status === 'ok');
    const scaling = (id: string, rows: typeof ok, y: string, title: string, yTitle: string, caption: string) =>
      out.push(scalingFigure({ id, groups: v.groups(id), rows, y, title, yTitle, caption, panelBy: BY_ARCH }));
    if (correlations.length) {
      scaling('fig1-c02', correlations, 'c02', 'Second-order correlation C^{0,2} at initialization vs width (paper Fig. 1)', 'C^{0,2} (RMS over samples and outputs)', `Exact C^{0,2} by Taylor mode. ${DATA_NOTE}`);
      scaling('fig3-c03', correlations, 'c03', 'Third-order correlation C^{0,3} at initialization vs width (paper Fig. 3)', 'C^{0,3} (RMS)', `Exact C^{0,3} by Taylor mode. ${DATA_NOTE}`);
    }
    if (v.rows('a1').length) {
      scaling('fig2-lossgap', ok, 'lossGap', 'Loss gap |L(f) − L(f_lin)| after training vs width (A.1, paper Fig. 2)', '|L(f) − L(f_lin)| (train)', `A.1 full-batch GD. Diverged runs are left out and counted in the headline table. ${DATA_NOTE}`);
      scaling('eq24-test', ok, 'eq24Test', 'Eq. 24 distance between f and f_lin on the test samples vs width (A.1)', 'C(f, f_lin), Eq. 24', DATA_NOTE);
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
        spec: dynamicsChart({ rows, step: 'step', value: 'loss', model: 'model', split: 'width', panelBy: BY_ARCH, columns: 3, independentY: true, yTitle: 'train loss' }),
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
        caption: 'Each point is one network: x the exact RMS correlation, y the sampled estimator\'s RMS over the same samples and outputs (absolute values, log axes). The diagonal is agreement. The two estimators differ by construction (the sampled one restricts the derivatives to a random parameter set D and divides by |D|^d): compare their trends in width, not their values.',
        spec: estimatorChart({ rows, x: 'exact', y: 'sampled', colorBy: 'order', tooltipFields: ['dataset', 'activation', 'depth', 'width', 'seed'], xTitle: 'exact (RMS)', yTitle: 'sampled, Eq. 25 (RMS)' }),
        data: rows,
      });
    }
    return out;
  },
});
