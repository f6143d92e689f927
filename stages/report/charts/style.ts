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
