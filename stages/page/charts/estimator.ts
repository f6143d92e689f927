// Estimator comparison: one estimator against another on log axes, with the y = x agreement line.

import { F, fmtScalar, num, positive, type DataRow, type Datum, type LayerItem, type TopLevelSpec } from './data.ts';
import { facet, type PanelOptions } from './facet.ts';
import { logScale, logAxis, ofKind, sciAxis, seriesColor, zoomParam } from './style.ts';

/** Both axes share one domain, so panels cannot have their own y range. */
export interface EstimatorChartOptions extends Omit<PanelOptions, 'independentY'> {
  /** One row per compared quantity (e.g. per width, depth, seed). */
  rows: readonly DataRow[];
  /** Exact estimator field (default 'exact'): x axis. */
  x?: string;
  /** Sampled estimator field (default 'sampled'): y axis. */
  y?: string;
  colorBy?: string;
  /** Extra fields shown in the tooltip, e.g. ['width', 'seed']. */
  tooltipFields?: readonly string[];
  xTitle?: string;
  yTitle?: string;
}

/** Log-log scatter of one estimator against another, with the y = x line (agreement). */
export function estimatorChart(o: EstimatorChartOptions): TopLevelSpec {
  const xf = o.x ?? 'exact';
  const yf = o.y ?? 'sampled';
  const extra = o.tooltipFields ?? [];
  let lo = Infinity;
  let hi = -Infinity;
  const chart = facet(o.rows, o, { width: 240, height: 220 }, (r, p) => {
    const x = num(r[xf]);
    const y = num(r[yf]);
    if (!positive(x) || !positive(y)) return null;
    lo = Math.min(lo, x, y);
    hi = Math.max(hi, x, y);
    const v: Datum = {
      [F.kind]: 'point',
      [F.panel]: p,
      [F.series]: o.colorBy ? fmtScalar(r[o.colorBy] ?? null) : '',
      [F.x]: x,
      [F.y]: y,
    };
    extra.forEach((f, i) => (v[`_t${i}`] = r[f] ?? null));
    return v;
  });
  const { values, panels } = chart;
  const points = values.slice();
  if (Number.isFinite(lo)) {
    for (const p of panels.keys())
      for (const x of [lo, hi]) values.push({ [F.kind]: 'diag', [F.panel]: p, [F.x]: x, [F.y]: x, [F.label]: 'y = x (agreement)' });
  }
  // Same domain on both axes, so y = x is the square's diagonal.
  const same = Number.isFinite(lo) ? { ...logScale, domain: [lo, hi] } : logScale;
  const axis = Number.isFinite(lo) ? logAxis(lo, hi) : sciAxis();
  const xEnc = { field: F.x, type: 'quantitative' as const, title: o.xTitle ?? `${xf} (log scale)`, scale: same, axis };
  const yEnc = { field: F.y, type: 'quantitative' as const, title: o.yTitle ?? `${yf} (log scale)`, scale: same, axis };
  const layers: LayerItem[] = [
    {
      name: 'diagonal',
      transform: ofKind('diag'),
      mark: { type: 'line', color: '#555', strokeDash: [6, 4], strokeWidth: 1.5 },
      encoding: { x: xEnc, y: yEnc, tooltip: [{ field: F.label, type: 'nominal', title: 'reference' }] },
    },
    {
      name: 'points',
      transform: ofKind('point'),
      params: [zoomParam],
      mark: { type: 'point', filled: true, size: 30, opacity: 0.75, ...(o.colorBy ? {} : { color: '#1f77b4' }) },
      encoding: {
        x: xEnc,
        y: yEnc,
        ...(o.colorBy ? { color: seriesColor(o.colorBy, points, 'tableau10') } : {}),
        tooltip: [
          ...(o.colorBy ? [{ field: F.series, type: 'nominal' as const, title: o.colorBy }] : []),
          ...extra.map((f, i) => ({ field: `_t${i}`, type: 'nominal' as const, title: f })),
          { field: F.x, type: 'quantitative', title: xf, format: '.4~g' },
          { field: F.y, type: 'quantitative', title: yf, format: '.4~g' },
        ],
      },
    },
  ];
  return chart.spec(layers);
}
