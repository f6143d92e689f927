// Spec pieces every chart shares: page-wide styling, scales, interaction, colour and filters.

import { F, firstAppearance, type Datum } from './data.ts';

/** Chart-wide styling: readable sizes, white background. */
export const config = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  background: 'white',
  view: { stroke: '#ccc' },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal' as const,
    gridColor: '#eee',
  },
  header: { labelFontSize: 12, titleFontSize: 12, labelFontWeight: 'bold' as const },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Log scale fitted to the data (no rounding out to powers of ten), with room for the marks. */
export const logScale = { type: 'log' as const, nice: false, padding: 10 };

/** A scale-bound interval selection: drag to pan, wheel to zoom, double-click to reset. */
export const zoomParam = { name: 'zoom', select: { type: 'interval' as const }, bind: 'scales' as const };

/** All layers share one data set; each picks its rows by `_kind`. */
export function ofKind(kind: string): { filter: string }[] {
  return [{ filter: `datum.${F.kind} === '${kind}'` }];
}

/** Colour by `_series` with a legend titled `title`, series in order of first appearance. */
export function seriesColor(title: string, values: readonly Datum[], scheme: string) {
  return {
    field: F.series,
    type: 'nominal' as const,
    title,
    sort: firstAppearance(values.map((v) => v[F.series] as string)),
    scale: { scheme },
  };
}

/**
 * Log-axis labels in one scientific format everywhere (`1e-3`, `3e-3`, `1e0`). Where vega picks
 * the ticks (independent panel scales), only mantissas in `labelled` get a label and a grid line;
 * the other ticks stay as short unlabelled minor ticks. Log-axis ticks are integer multiples of
 * powers of ten, so one significant digit is exact.
 */
export function sciAxis(labelled: readonly string[] = ['1', '2', '5']) {
  const major = `indexof([${labelled.map((m) => `'${m}'`).join(', ')}], substring(format(datum.value, '.0e'), 0, 1)) >= 0`;
  return {
    labelExpr: `${major} ? replace(format(datum.value, '.0e'), 'e+', 'e') : ''`,
    labelOverlap: 'greedy' as const,
    tickCount: 5,
    gridOpacity: { condition: { test: major, value: 1 }, value: 0 },
    tickSize: { condition: { test: major, value: 5 }, value: 2 },
  };
}

/** Labelled mantissas for independent log panels spanning these many decades (at most ~6 labels). */
export function sciMantissas(spans: readonly number[]): string[] {
  const max = Math.max(0, ...spans);
  const min = Math.min(max, ...spans);
  if (min >= 2 || max > 3) return min >= 0.6 ? ['1'] : ['1', '3'];
  if (max > 1.5) return ['1', '3'];
  return ['1', '2', '5'];
}

/**
 * Tick values on a log axis over [lo, hi], at least three and at most `max`: powers of ten (every
 * k-th decade when there are many), 1-5 or 1-2-5 multiples in a narrower range, and three points
 * evenly spaced in log when even those give fewer than three. (No 1..9 level: 9e-2 and 1e-1 sit
 * 0.05 decades apart, and their labels overlap on a short panel.)
 */
export function logTicks(lo: number, hi: number, max = 6): number[] {
  if (!(lo > 0) || !(hi >= lo)) return [];
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  for (const mantissas of [[1], [1, 5], [1, 2, 5]]) {
    const all: number[] = [];
    for (let k = a; k <= b; k++) for (const m of mantissas) all.push(Number(`${m}e${k}`));
    const inside = all.filter((v) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9));
    if (inside.length >= 3) {
      const step = Math.ceil(inside.length / max);
      return inside.filter((_, i) => i % step === 0);
    }
  }
  if (hi === lo) return [lo];
  // Inside the range, so rounding a label cannot push its tick off the axis.
  return [0.1, 0.5, 0.9].map((t) => lo * (hi / lo) ** t);
}

/** Significant digits that tell every tick apart (labels are never repeated). */
export function tickDigits(ticks: readonly number[]): number {
  for (let d = 1; d < 15; d++) if (new Set(ticks.map((v) => v.toExponential(d - 1))).size === ticks.length) return d;
  return 15;
}

/** A log axis over [lo, hi] with explicit ticks from logTicks, every one labelled, each label distinct. */
export function logAxis(lo: number, hi: number) {
  const values = logTicks(lo, hi);
  // Enough digits that labels differ and no rounded tick falls off the data's range.
  let d = tickDigits(values);
  while (d < 15 && values.some((v) => { const r = Number(v.toPrecision(d)); return r < lo || r > hi; })) d++;
  return {
    labelExpr: `replace(format(datum.value, '.${d - 1}e'), 'e+', 'e')`,
    labelOverlap: false as const,
    values: values.map((v) => Number(v.toPrecision(d))),
  };
}

/**
 * Width ticks: powers of two inside [lo, hi] (widths are powers of two), every k-th when there are
 * more than `max`; where fewer than three fit, up to `max` of the widths themselves (`xs`).
 */
export function pow2Ticks(lo: number, hi: number, max = 6, xs: readonly number[] = []): number[] {
  if (!(lo > 0) || !(hi >= lo)) return [];
  const all: number[] = [];
  for (let k = Math.ceil(Math.log2(lo) - 1e-9); 2 ** k <= hi * (1 + 1e-9); k++) all.push(2 ** k);
  const pick = all.length >= 3 ? all : [...new Set(xs.length ? xs : [lo, hi])].sort((p, q) => p - q);
  const step = Math.ceil(pick.length / max);
  // Keep the largest width labelled: thin from the top.
  return pick.filter((_, i) => (pick.length - 1 - i) % step === 0);
}
