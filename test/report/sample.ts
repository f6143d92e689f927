// FAKE data for the report tests only: realistic shapes and magnitudes, made up numbers.
// Nothing here is a result. Deterministic (seeded), so the rendered report is too.

import { fitGroups, type FitPoint, type GroupFit } from '../../stages/stats/powerlaw.ts';
import { mulberry32 } from '../../stages/model/prng.ts';
import type { Claim, HeadlineRow, ReportInput } from '../../stages/page/html.ts';
import {
  dynamicsChart,
  estimatorChart,
  scalingChart,
  type DataRow,
  type FitLine,
} from '../../stages/page/charts/index.ts';

function normal(rng: () => number): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const minus = (v: number) => String(v).replace('-', '\u2212');

const toPoint = (r: DataRow): FitPoint => ({
  x: r.width as number,
  y: r.value as number,
  seed: r.seed as number,
  status: (r.status as string | null) ?? undefined,
});

const fitLines = (fits: GroupFit[]): FitLine[] =>
  fits.map((g) => ({
    key: g.key,
    slope: g.fit.slope,
    intercept: g.fit.intercept,
    xMin: g.fit.xMin,
    xMax: g.fit.xMax,
    ciLo: g.fit.ci?.lo ?? null,
    ciHi: g.fit.ci?.hi ?? null,
  }));

const headline = (claim: string, g: GroupFit, paper: string | null, theory: string | null): HeadlineRow => ({
  claim,
  paper,
  theory,
  slope: g.fit.slope,
  ciLo: g.fit.ci?.lo ?? null,
  ciHi: g.fit.ci?.hi ?? null,
  r2: g.fit.r2,
  nPoints: g.fit.nPoints,
  nSeeds: g.fit.nSeeds,
  excluded: g.fit.excluded.excluded,
  note: g.fit.ciNote,
});

/** A.1-like: C^{0,2} vs width, datasets x activations panels, coloured by depth. */
export function sampleA1(): DataRow[] {
  const rng = mulberry32('sample-a1');
  const rows: DataRow[] = [];
  for (const dataset of ['mnist', 'cifar10'])
    for (const activation of ['relu', 'erf', 'sigmoid'])
      for (const depth of [1, 2, 3])
        for (let seed = 0; seed < 3; seed++)
          for (let width = 8; width <= 1024; width *= 2) {
            const slope = -0.5 - 0.04 * (depth - 1) + (activation === 'relu' ? 0.03 : 0);
            const A = (dataset === 'mnist' ? 0.6 : 1.1) * depth;
            rows.push({
              dataset,
              activation,
              depth,
              seed,
              width,
              value: A * width ** slope * Math.exp(0.12 * normal(rng)),
            });
          }
  return rows;
}

/** A.2-like: MSE_test(f, f_lin) vs width per alpha, some diverged runs at alpha = 0. */
export function sampleA2(): DataRow[] {
  const rng = mulberry32('sample-a2');
  const paper: Record<string, number> = { '0': -1.14, '-0.25': -1.14, '-0.5': -1.3, '-0.75': -1.73, '-1': -2.72 };
  const widths = [2048, 2896, 4096, 5793, 8192, 11585, 16384, 19484];
  const rows: DataRow[] = [];
  for (const alpha of [0, -0.25, -0.5, -0.75, -1])
    for (let seed = 0; seed < 5; seed++)
      for (const width of widths) {
        const diverged = alpha === 0 && seed === 3 && width >= 11585;
        rows.push({
          alpha,
          seed,
          width,
          value: diverged ? null : 0.02 * (width / 2048) ** paper[String(alpha)] * Math.exp(0.15 * normal(rng)),
          status: diverged ? 'diverged' : 'ok',
        });
      }
  return rows;
}

export function sampleDynamics(): DataRow[] {
  const rows: DataRow[] = [];
  const rng = mulberry32('dyn');
  for (const width of [64, 1024])
    for (const split of ['train', 'test'])
      for (const model of ['net', 'linearized'])
        for (let step = 0; step <= 1000; step += 20) {
          const gap = (model === 'net' ? 1 : 1 + 0.8 / Math.sqrt(width)) * (split === 'test' ? 1.3 : 1);
          const floor = split === 'test' ? 0.03 : 0.002;
          rows.push({
            width,
            split,
            model,
            step,
            loss: (0.09 * Math.exp(-step / (120 * gap)) + floor) * gap * Math.exp(0.01 * normal(rng)),
          });
        }
  return rows;
}

export function sampleEstimators(): DataRow[] {
  const rows: DataRow[] = [];
  const rng = mulberry32('est');
  for (const depth of [1, 2, 3])
    for (let width = 16; width <= 1024; width *= 2)
      for (let seed = 0; seed < 2; seed++) {
        const exact = 0.5 * depth * width ** -0.5 * Math.exp(0.1 * normal(rng));
        rows.push({ depth, width, seed, exact, sampled: exact * Math.exp(0.25 * normal(rng)) });
      }
  return rows;
}

const interval = (g: GroupFit) => ({ slope: g.fit.slope, lo: g.fit.ci?.lo ?? null, hi: g.fit.ci?.hi ?? null });

/** Claims as a protocol's claims() gives them: FAKE verdicts, every verdict kind at least once. */
export function sampleClaims(fitsA1: GroupFit[], fitsA2: GroupFit[]): Claim[] {
  const paperNum: Record<string, number> = { '0': -1.14, '-0.25': -1.14, '-0.5': -1.3, '-0.75': -1.73, '-1': -2.72 };
  const verdicts: Claim['verdict'][] = ['not comparable', 'holds', 'steeper than the paper', 'flatter than the paper', 'inconclusive'];
  const a2 = fitsA2.map((g, i): Claim => {
    const a = g.key.alpha as number;
    return {
      claim: `Figure 4, α = ${minus(a)}`,
      source: 'Theorem 3.2, Fig. 4', kind: 'theorem', regime: i === 1 ? 'barely trained: test accuracy 9%–21% (chance 10%)' : null,
      paperVerdict: i === 1 ? { verdict: 'not comparable', why: 'widths 64–1024 here, 2048–19484 in the paper' } : null,
      paper: minus(paperNum[String(a)]!),
      bound: `bound: slope ≤ ${minus(2 * a + 1)}`,
      paperSlope: paperNum[String(a)]!,
      boundSlope: 2 * a + 1,
      groups: [g.id],
      measured: [interval(g)],
      widths: { here: [2048, 19484], paper: '2048-19484' },
      verdict: verdicts[i % verdicts.length]!,
      why: i === 0 ? 'widths 64-1024 lie below the paper’s 2048-19484' : i === 4 ? 'CI wider than 1 <x> & "y"' : 'interval inside the bound',
    };
  });
  const byDepth = (d: number) => fitsA1.filter((g) => g.key.depth === d);
  return [
    ...a2,
    {
      claim: 'C^{0,2} decays with width',
      source: 'Theorem 3.1', kind: 'theorem', paperVerdict: null, regime: null,
      paper: null,
      bound: 'bound: slope ≤ −0.5',
      paperSlope: null,
      boundSlope: -0.5,
      groups: byDepth(2).map((g) => g.id),
      measured: byDepth(2).map(interval),
      widths: { here: [8, 1024], paper: '2^3-2^10' },
      verdict: 'holds',
      why: 'every interval below −0.5 + 0.1',
    },
    {
      claim: 'C^{0,3} decays with width (ReLU, L = 1: exactly zero)',
      source: 'Appendix G.4', kind: 'heuristic', paperVerdict: null, regime: null,
      paper: null,
      bound: 'bound: slope ≤ −0.75',
      paperSlope: null,
      boundSlope: -0.75,
      groups: byDepth(3).map((g) => g.id),
      measured: byDepth(3).map(interval),
      widths: { here: [8, 1024], paper: null },
      verdict: 'flatter than the paper',
      why: 'R^2 < 0.9 in 2 of 6 groups',
    },
    {
      claim: 'Corollary 4.0.1: deviation bounded in s',
      source: 'Corollary 4.0.1', kind: 'theorem', paperVerdict: null, regime: null,
      paper: 'stated, not measured',
      bound: null,
      paperSlope: null,
      boundSlope: null,
      groups: [],
      measured: [],
      widths: { here: null, paper: null },
      verdict: 'not comparable',
      why: 'not measured in this run',
    },
  ];
}

export const SAMPLE_VERDICT_RULE =
  'FAKE rule for tests: consistent when the 95% interval lies below the bound; steeper/flatter when it excludes the paper’s slope; inconclusive when the interval is wider than 1 or R^2 < 0.9; not comparable when the widths lie outside the paper’s.';

/** A complete ReportInput built from the fake data above. */
export function sampleReportInput(opts: { interactive?: boolean } = {}): ReportInput {
  const a1 = sampleA1();
  const a2 = sampleA2();
  const fitsA1 = fitGroups(a1, ['dataset', 'activation', 'depth'], { resamples: 500, seed: 1 }, toPoint);
  const fitsA2 = fitGroups(a2, ['alpha'], { resamples: 500, seed: 1 }, toPoint);
  const paper: Record<string, string> = { '0': '−1.14', '-0.25': '−1.14', '-0.5': '−1.30', '-0.75': '−1.73', '-1': '−2.72' };
  const paperNum: Record<string, number> = { '0': -1.14, '-0.25': -1.14, '-0.5': -1.3, '-0.75': -1.73, '-1': -2.72 };
  return {
    title: 'weakcorr — SAMPLE report with FAKE data <test fixture>',
    subtitle: 'Weak Correlations as the Underlying Principle for Linearization of Gradient-Based Learning Systems',
    intro: ['FAKE DATA for testing the report renderer. None of these numbers is a measurement. Escaping check: <b>not bold</b> & "quotes".'],
    claims: sampleClaims(fitsA1, fitsA2),
    verdictRule: SAMPLE_VERDICT_RULE,
    headline: [
      ...fitsA2.map((g) =>
        headline(
          `Fig. 4 (A.2): MSE_test(f, f_lin) vs width, α = ${g.key.alpha}`,
          g,
          paper[String(g.key.alpha)],
          `${minus(2 * (g.key.alpha as number) - 1)} (2α − 1)`,
        ),
      ),
      headline('Fig. 1 (A.1): C^{0,2} vs width, MNIST, relu, L = 2', fitsA1.find((g) => g.id === 'dataset=mnist,activation=relu,depth=2')!, null, '−0.50 (Thm 3.1 / 3.2)'),
    ],
    headlineNote: 'Paper values are read from the paper’s Figure 4; theory guides are our reading of Theorems 3.1/3.2.',
    figures: [
      {
        id: 'fig1-c02',
        title: 'C^{0,2} at initialization vs width (A.1)',
        caption:
          'Data: one point per seed and width; solid lines: least-squares power-law fit per depth. Expectation: the dashed grey line has slope −1/2 (Theorem 3.1), anchored at the panel’s geometric-mean point; it is not fitted.',
        spec: scalingChart({
          rows: a1,
          panelBy: ['dataset', 'activation'],
          colorBy: 'depth',
          fits: fitLines(fitsA1),
          references: [{ slope: -0.5, label: 'theory: slope −1/2' }],
          yTitle: 'C^{0,2} (log scale)',
          xTitle: 'width n (log scale)',
        }),
        data: a1,
      },
      {
        id: 'fig4-mse',
        title: 'MSE_test(f, f_lin) after training vs width, per learning-rate exponent α (A.2)',
        caption:
          'Data: one point per seed and width (diverged runs are not drawn and are excluded from the fit); solid line: fit. Expectations: dashed lines with the paper’s slope and the theory guide 2α − 1.',
        spec: scalingChart({
          rows: a2,
          panelBy: ['alpha'],
          fits: fitLines(fitsA2),
          references: Object.keys(paper).flatMap((a) => [
            { key: { alpha: Number(a) }, slope: paperNum[a], label: `paper (data): slope ${paper[a]}`, legend: "paper's fitted slope (the paper's data)" },
            { key: { alpha: Number(a) }, slope: 2 * Number(a) - 1, label: `paper's stated expectation: 2α−1 = ${minus(2 * Number(a) - 1)}`, legend: "paper's stated expectation: slope 2α−1" },
          ]),
          yTitle: 'MSE_test(f, f_lin) (log)',
          xTitle: 'width n (log scale)',
          columns: 3,
          independentY: true,
        }),
        data: a2,
      },
      {
        id: 'dynamics',
        title: 'Training dynamics: network vs linearization (MNIST, relu, L = 2)',
        caption: 'Data: loss of the network and of its linearization along training (colour: model; solid: train, dashed: test). No expectation lines.',
        spec: dynamicsChart({ rows: sampleDynamics(), panelBy: ['width'], split: 'split', yTitle: 'loss (log scale)' }),
        data: sampleDynamics(),
      },
      {
        id: 'estimators',
        title: 'Exact vs sampled estimator of C^{0,2}',
        caption: 'Data: one point per (depth, width, seed). Reference: the dashed line y = x marks agreement; it is not fitted.',
        spec: estimatorChart({ rows: sampleEstimators(), colorBy: 'depth', tooltipFields: ['width', 'seed'], xTitle: 'exact (Taylor mode)', yTitle: 'sampled (Eq. 25)' }),
        data: sampleEstimators(),
      },
    ],
    provenance: {
      experiment: 'sample',
      config: {
        name: 'sample',
        a1: { datasets: ['mnist', 'cifar10'], activations: ['relu', 'erf', 'sigmoid'], depths: [1, 2, 3], widths: [8, 16, 32, 64, 128, 256, 512, 1024], seeds: 3, steps: 1000, lr: 1 },
        a2: { alphas: [0, -0.25, -0.5, -0.75, -1], widths: [2048, 2896, 4096, 5793, 8192, 11585, 16384, 19484], seeds: 5, steps: 250, batch: 128 },
        fit: { resamples: 500, seed: 1 },
        note: '</script><script>alert(1)</script>',
      },
      git: { commit: '0123456789abcdef0123456789abcdef01234567', dirty: true, branch: 'main' },
      runtime: { Backend: 'tfjs-wasm (SIMD, 1 thread)', Device: 'cpu: 2 cores', Node: 'v20.20.2', Host: 'linux x64' },
      packages: { '@tensorflow/tfjs': '4.22.0', vega: '6.4.0', 'vega-lite': '6.4.3', 'vega-embed': '7.3.0' },
      tasks: { executed: 17, cached: 8, failed: 1, diverged: 1, skipped: 0 },
      stages: [
        { stage: 'fetch', wallSeconds: 3.1, tasks: 2, executed: 1, cached: 1, failed: 0 },
        { stage: 'train', wallSeconds: 97.4, tasks: 24, executed: 17, cached: 6, failed: 1 },
        { stage: 'fit', wallSeconds: 0.4, tasks: 1, executed: 1, cached: 0, failed: 0 },
        { stage: 'report', wallSeconds: 1.5, tasks: 1, executed: 1, cached: 0, failed: 0 },
      ],
      notes: ['command: weakcorr run --experiment sample'],
    },
    interactive: opts.interactive,
  };
}
