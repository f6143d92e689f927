// From the fit stage's output to the report's content: headline table and figures.
import type { A1Row, A2Row, CorrRow, DynRow, FitGroupResult } from '../fit/collect.ts';
import type { FigureInput, HeadlineRow } from './html.ts';
import { dynamicsChart, estimatorChart, scalingChart, type DataRow, type FitLine, type ReferenceSlope } from './charts/index.ts';

export interface FitsArtifact {
  groups: FitGroupResult[];
  rows: { a1: A1Row[]; a2: A2Row[]; correlations: CorrRow[]; dynamics: DynRow[] };
  counts: { a1: number; a2: number; correlations: number; diverged: number };
  runtime: { backends: string[]; trainGflop: number };
}

const fmt = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined ? '—' : v.toFixed(digits));
const keyLabel = (k: Record<string, unknown>): string =>
  Object.entries(k).map(([name, v]) => (name === 'depth' ? `L${v}` : name === 'alpha' ? `α = ${v}` : String(v))).join(' / ');

function groupsOf(fits: FitsArtifact, metric: string): FitGroupResult[] {
  return fits.groups.filter((g) => g.metric === metric);
}

function fitLines(groups: FitGroupResult[]): FitLine[] {
  return groups.map((g) => ({ key: g.key, slope: g.fit.slope, intercept: g.fit.intercept, xMin: g.fit.xMin, xMax: g.fit.xMax, ciLo: g.fit.ci?.lo ?? null, ciHi: g.fit.ci?.hi ?? null }));
}

function references(groups: FitGroupResult[]): ReferenceSlope[] {
  const refs: ReferenceSlope[] = [];
  for (const g of groups) {
    for (const e of g.expectations) refs.push({ key: g.key, slope: e.slope, label: e.label });
    if (g.paper !== null) refs.push({ key: g.key, slope: g.paper, label: `paper: slope ${g.paper}` });
  }
  return refs;
}

function headline(groups: FitGroupResult[], claim: (g: FitGroupResult) => string, theory: (g: FitGroupResult) => string): HeadlineRow[] {
  return groups.map((g) => ({
    claim: claim(g),
    paper: g.paper === null ? null : fmt(g.paper),
    theory: theory(g),
    slope: g.fit.slope, ciLo: g.fit.ci?.lo ?? null, ciHi: g.fit.ci?.hi ?? null, r2: g.fit.r2,
    nPoints: g.fit.nPoints, nSeeds: g.fit.nSeeds, excluded: g.fit.excluded.excluded,
    note: g.fit.ciNote,
  }));
}

const expText = (g: FitGroupResult): string => g.expectations.map((e) => e.label).join('; ');

export function headlineRows(fits: FitsArtifact): HeadlineRow[] {
  return [
    ...headline(groupsOf(fits, 'fig4-mse'), (g) => `Fig. 4 (A.2): MSE_test(f, f_lin) vs width, ${keyLabel(g.key)}`, expText),
    ...headline(groupsOf(fits, 'fig1-c02'), (g) => `Fig. 1: C^{0,2} vs width (exact), ${keyLabel(g.key)}`, expText),
    ...headline(groupsOf(fits, 'fig3-c03'), (g) => `Fig. 3: C^{0,3} vs width (exact), ${keyLabel(g.key)}`, expText),
    ...headline(groupsOf(fits, 'fig2-lossgap'), (g) => `Fig. 2: |L(f) − L(f_lin)| vs width, ${keyLabel(g.key)}`, expText),
    ...headline(groupsOf(fits, 'eq24-test'), (g) => `Eq. 24 on test samples vs width, ${keyLabel(g.key)}`, expText),
  ];
}

const ARCH = ['dataset', 'activation', 'depth'];

function scalingFigure(fits: FitsArtifact, id: string, metric: string, rows: DataRow[], y: string, title: string, yTitle: string, caption: string, panelBy = ARCH): FigureInput {
  const groups = groupsOf(fits, metric);
  return {
    id, title, caption,
    spec: scalingChart({ rows, x: 'width', y, seed: 'seed', panelBy, fits: fitLines(groups), references: references(groups), xTitle: 'width n', yTitle, columns: 3, independentY: true }),
    data: rows,
  };
}

export function figures(fits: FitsArtifact): FigureInput[] {
  const { a1, a2, correlations, dynamics } = fits.rows;
  const out: FigureInput[] = [];
  const dataNote = 'Points: one per seed and width (data). Solid lines: least-squares fits of log y on log n (data). Dashed grey lines: expected slopes, placed through the data\'s centre (expectations, not data).';
  if (correlations.length) {
    out.push(scalingFigure(fits, 'fig1-c02', 'fig1-c02', correlations, 'c02', 'Second-order correlation C^{0,2} at initialization vs width (paper Fig. 1)', 'C^{0,2} (RMS over samples and outputs)', `Exact C^{0,2} by Taylor mode. ${dataNote}`));
    out.push(scalingFigure(fits, 'fig3-c03', 'fig3-c03', correlations, 'c03', 'Third-order correlation C^{0,3} at initialization vs width (paper Fig. 3)', 'C^{0,3} (RMS)', `Exact C^{0,3} by Taylor mode. ${dataNote}`));
  }
  if (a1.length) {
    out.push(scalingFigure(fits, 'fig2-lossgap', 'fig2-lossgap', a1.filter((r) => r.status === 'ok'), 'lossGap', 'Loss gap |L(f) − L(f_lin)| after training vs width (A.1, paper Fig. 2)', '|L(f) − L(f_lin)| (train)', `A.1 full-batch GD. Diverged runs are left out and counted in the headline table. ${dataNote}`));
    out.push(scalingFigure(fits, 'eq24-test', 'eq24-test', a1.filter((r) => r.status === 'ok'), 'eq24Test', 'Eq. 24 distance between f and f_lin on the test samples vs width (A.1)', 'C(f, f_lin), Eq. 24', dataNote));
  }
  if (a2.length) {
    out.push(scalingFigure(fits, 'fig4-mse', 'fig4-mse', a2.filter((r) => r.status === 'ok'), 'mseTest', 'MSE_test(f, f_lin) after SGD vs width, per learning-rate exponent α (A.2, paper Fig. 4)', 'MSE_test(f, f_lin), Eq. 30', `eta = lr0 · n^α. ${dataNote} Dashed lines: the paper's fitted slope and 2α − 1.`, ['alpha']));
  }
  if (dynamics.length) {
    // One representative run per architecture: the smallest and largest width, seed 0.
    const widths = [...new Set(dynamics.map((r) => r.width))].sort((a, b) => a - b);
    const pick = new Set([widths[0], widths.at(-1)]);
    const seed0 = Math.min(...dynamics.map((r) => r.seed));
    const rows = dynamics.filter((r) => pick.has(r.width) && r.seed === seed0).map((r) => ({ ...r, width: `n = ${r.width}` }));
    out.push({
      id: 'dynamics', title: 'Training dynamics: the net and its linearization (A.1, train loss)',
      caption: `Train loss along full-batch GD of the net and of its linearization (colour) for the smallest and the largest width (dash), seed ${seed0}. Where the two colours overlap the linearization tracks the net. Data.`,
      spec: dynamicsChart({ rows, step: 'step', value: 'loss', model: 'model', split: 'width', panelBy: ARCH, columns: 3, independentY: true, yTitle: 'train loss' }),
      data: rows,
    });
  }
  if (correlations.length) {
    const rows = correlations.flatMap((r) => [
      { dataset: r.dataset, activation: r.activation, depth: r.depth, width: r.width, seed: r.seed, order: 'C^{0,2}', exact: Math.abs(r.c02), sampled: Math.abs(r.c02Sampled) },
      { dataset: r.dataset, activation: r.activation, depth: r.depth, width: r.width, seed: r.seed, order: 'C^{0,3}', exact: Math.abs(r.c03), sampled: Math.abs(r.c03Sampled) },
    ]);
    out.push({
      id: 'estimators', title: 'Exact (Taylor mode) vs the paper\'s sampled estimator (Eq. 25)',
      caption: 'Each point is one network: x the exact RMS correlation, y the sampled estimator\'s RMS over the same samples and outputs (absolute values, log axes). The diagonal is agreement. The two estimators differ by construction (the sampled one restricts the derivatives to a random parameter set D and divides by |D|^d): compare their trends in width, not their values.',
      spec: estimatorChart({ rows, x: 'exact', y: 'sampled', colorBy: 'order', tooltipFields: ['dataset', 'activation', 'depth', 'width', 'seed'], xTitle: 'exact (RMS)', yTitle: 'sampled, Eq. 25 (RMS)' }),
      data: rows,
    });
  }
  return out;
}
