// Corollary 4.0.1 (deviation over training time): for SGD, F(theta(s)) - F_lin(s) = O(s^0 / m(n)),
// so the deviation between the net and its linearization should not grow with the step s. Read
// from A.2's logged mini-batch discrepancy (train-result log `mseBatch`, the mean over the batch of
// ||f - f_lin||^2 before each logged step); no stage of its own.
import type { FitGroupResult, Row } from '../../contracts/fits.ts';
import type { TrainResult } from '../../contracts/train-result.ts';
import { dynamicsChart } from '../../page/charts/index.ts';
import type { FigureInput } from '../../page/html.ts';
import { fittedWidths, measuredOf, PAPER_WIDTHS, widthText } from '../claims.ts';
import { defineProtocol, read, type Claim, type Verdict } from '../protocol.ts';
import { trainA2Stage } from '../a2/train.ts';

type Table = 'corollary';

/** One row per logged step s > 0 of every finished A.2 run. */
export function corollaryRows(results: TrainResult[]): Row[] {
  return results.filter((r) => r.status === 'ok').flatMap((r) => r.log
    .filter((l) => l.step > 0 && typeof l.mseBatch === 'number')
    .map((l) => ({ alpha: r.point.alpha ?? 0, step: l.step, width: r.point.width, seed: r.point.seed, status: r.status, mseBatch: l.mseBatch as number })));
}

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

/** Seed-mean deviation per (alpha, width, step). */
export function meanCurves(rows: Row[]): Row[] {
  const acc = new Map<string, { alpha: number; width: number; step: number; v: number[] }>();
  for (const r of rows) {
    const k = `${r.alpha}/${r.width}/${r.step}`;
    const e = acc.get(k) ?? { alpha: r.alpha as number, width: r.width as number, step: r.step as number, v: [] };
    e.v.push(r.mseBatch as number);
    acc.set(k, e);
  }
  return [...acc.values()].map((e) => ({ alpha: e.alpha, width: e.width, step: e.step, mseBatch: mean(e.v) }));
}

/** A deviation that at least doubles from the middle of training to its end is growing in s. */
export const GROWTH_LIMIT = 2;

/**
 * Rule, per alpha and width: the seed-mean deviation over the last third of the logged steps
 * against the middle third. Bounded in s ("consistent") when no (alpha, width) grows by
 * GROWTH_LIMIT or more; "inconclusive" with fewer than three logged steps.
 */
export function boundedInStep(curves: Row[]): { verdict: Verdict; why: string; worst: number | null } {
  const series = new Map<string, Row[]>();
  for (const r of curves) series.set(`${r.alpha}/${r.width}`, [...(series.get(`${r.alpha}/${r.width}`) ?? []), r]);
  let worst: number | null = null;
  let counted = 0;
  for (const rs of series.values()) {
    const s = [...rs].sort((a, b) => (a.step as number) - (b.step as number)).map((r) => r.mseBatch as number);
    if (s.length < 3) continue;
    const third = Math.floor(s.length / 3) || 1;
    const middle = mean(s.slice(third, 2 * third));
    const late = mean(s.slice(s.length - third));
    const ratio = late / middle;
    counted++;
    if (worst === null || ratio > worst) worst = ratio;
  }
  if (!counted || worst === null) return { verdict: 'inconclusive', why: 'fewer than three logged steps per run', worst };
  const why = `largest growth of the seed-mean deviation from the middle to the last third of training: ×${worst.toPrecision(3)} over ${counted} (α, width) series (limit ×${GROWTH_LIMIT})`;
  return { verdict: worst < GROWTH_LIMIT ? 'holds' : 'inconclusive', why, worst };
}

const label = (g: FitGroupResult): string => `α = ${g.key.alpha}, s = ${g.key.step}`;

export const corollaryProtocol = defineProtocol<Table>()({
  id: 'corollary',
  title: 'Corollary 4.0.1: the deviation f - f_lin over training steps (A.2)',
  config: {},
  stages: [],
  reads: { 'train-a2': read(trainA2Stage, 'result') },
  tables: (all) => ({ corollary: corollaryRows(all('train-a2')) }),
  counted: [],
  // The width slope of the deviation at every logged step: does it stay put as s grows?
  fits: [{ metric: 'cor-width-slope', table: 'corollary', keys: ['alpha', 'step'], value: 'mseBatch', expectations: () => [] }],
  headline: () => [],
  claims: (v) => {
    const groups = v.groups('cor-width-slope');
    if (!groups.length) return [];
    const { verdict, why } = boundedInStep(meanCurves(v.rows('corollary')));
    const claim: Claim = {
      claim: 'Corollary 4.0.1: f − f_lin stays bounded over training steps (A.2)',
      source: 'Corollary 4.0.1 (its hypothesis, exponential decay of L(f_lin), is not checked here)', kind: 'theorem',
      paper: 'O(s^0 / m(n)): no growth in s',
      bound: null,
      paperSlope: null, boundSlope: null,
      groups: groups.map((g) => g.id),
      measured: measuredOf(groups),
      widths: { here: fittedWidths(groups), paper: widthText(PAPER_WIDTHS.fig4) },
      verdict,
      why: `${why}; measured: the per-step width slopes of the mini-batch deviation`,
      paperVerdict: null, regime: null,
    };
    return [claim];
  },
  figures: (v) => {
    const rows = v.rows('corollary');
    if (!rows.length) return [];
    const curves = meanCurves(rows);
    const out: FigureInput[] = [];
    const byWidth: Row[] = curves.map((r) => ({ ...r, series: `n = ${r.width}` }));
    out.push({
      id: 'cor-steps', title: 'Deviation between f and f_lin over SGD steps, per width (A.2; cf. Corollary 4.0.1)',
      caption: 'Mean over the mini-batch of ||f − f_lin||² before each logged step, averaged over seeds (data); one line per width, one panel per α. Corollary 4.0.1 says it stays O(s⁰/m(n)): flat in s, lower at larger width.',
      spec: dynamicsChart({ rows: byWidth, step: 'step', value: 'mseBatch', model: 'series', panelBy: ['alpha'], columns: 3, yTitle: 'mini-batch ||f − f_lin||²' }),
      data: byWidth,
    });
    // Collapse: scaled by the width to the power of the last step's fitted slope, the curves of all widths should coincide.
    const groups = v.groups('cor-width-slope');
    const lastStep = Math.max(...curves.map((r) => r.step as number));
    const slopeAt = (alpha: unknown) => groups.find((g) => g.key.alpha === alpha && g.key.step === lastStep)?.fit.slope ?? null;
    const collapsed = byWidth.flatMap((r) => {
      const b = slopeAt(r.alpha);
      return b === null ? [] : [{ ...r, scaled: (r.mseBatch as number) * Math.pow(r.width as number, -b) }];
    });
    if (collapsed.length) out.push({
      id: 'cor-collapse', title: 'Width-rescaled deviation: collapse across widths',
      caption: 'The curves above multiplied by n^(−b), with b the width slope fitted at the last logged step (per α). Where the lines coincide, one power of the width describes the deviation at every step.',
      spec: dynamicsChart({ rows: collapsed, step: 'step', value: 'scaled', model: 'series', panelBy: ['alpha'], columns: 3, yTitle: 'deviation × n^(−b)' }),
      data: collapsed,
    });
    const slopes = groups.filter((g) => g.fit.slope !== null).map((g) => ({ alpha: g.key.alpha as number, step: g.key.step as number, slope: g.fit.slope as number, lo: g.fit.ci?.lo ?? null, hi: g.fit.ci?.hi ?? null, group: label(g) }));
    if (slopes.length) out.push({
      id: 'cor-slope-vs-step', title: 'Fitted width slope of the deviation vs step',
      caption: 'Per logged step s and α: the least-squares slope of log deviation on log width (points; 95% t-intervals in the data table). Corollary 4.0.1 implies it does not drift with s.',
      spec: dynamicsChart({ rows: slopes.map((r) => ({ ...r, series: `α = ${r.alpha}` })), step: 'step', value: 'slope', model: 'series', logY: false, yTitle: 'width slope of the deviation' }),
      data: slopes,
    });
    return out;
  },
});
