// Training dynamics: loss over steps of the network vs its linearization.

import { F, firstAppearance, fmtScalar, num, type DataRow, type LayerItem, type TopLevelSpec } from './data.ts';
import { facet, type PanelOptions } from './facet.ts';
import { logScale, logAxis, pow2Ticks, seriesColor, zoomParam } from './style.ts';

export interface DynamicsChartOptions extends PanelOptions {
  /** One row per (model, step[, split][, seed]). */
  rows: readonly DataRow[];
  /** Step field (default 'step'). */
  step?: string;
  /** Loss field (default 'loss'). */
  value?: string;
  /** Field naming the model, e.g. 'net' vs 'linearized' (default 'model'): the colour. */
  model?: string;
  /** Optional field such as 'split' ('train' / 'test'): the stroke dash. */
  split?: string;
  /** Optional field such as 'seed': one line per value. */
  detail?: string;
  /** Log y axis (default true). */
  logY?: boolean;
  /** Log x axis with power-of-two ticks (for widths; default false). */
  logX?: boolean;
  xTitle?: string;
  yTitle?: string;
}

/** Line chart of loss over training steps: the network vs its linearization, per panel. */
export function dynamicsChart(o: DynamicsChartOptions): TopLevelSpec {
  const stepF = o.step ?? 'step';
  const valF = o.value ?? 'loss';
  const modelF = o.model ?? 'model';
  const logY = o.logY ?? true;
  const chart = facet(o.rows, o, { width: 220, height: 150 }, (r, p) => {
    const x = num(r[stepF]);
    const y = num(r[valF]);
    if (!Number.isFinite(x) || !Number.isFinite(y) || (logY && y <= 0)) return null;
    return {
      [F.kind]: 'loss',
      [F.panel]: p,
      [F.series]: fmtScalar(r[modelF] ?? null),
      [F.dash]: o.split ? fmtScalar(r[o.split] ?? null) : '',
      [F.line]: o.detail ? fmtScalar(r[o.detail] ?? null) : '',
      [F.x]: x,
      [F.y]: y,
    };
  });
  const { values } = chart;
  const ys = values.map((v) => v[F.y] as number);
  const xs = values.map((v) => v[F.x] as number);
  const yTitle = o.yTitle ?? (logY ? `${valF} (log scale)` : valF);
  const models = firstAppearance(values.map((v) => v[F.series] as string));
  const layers: LayerItem[] = [
    {
      name: 'lines',
      params: [zoomParam],
      // Opaque lines, the first model widest: where two coincide the later one runs inside the
      // earlier one (no blended colour that no legend names).
      mark: { type: 'line', opacity: 1, tooltip: true },
      encoding: {
        x: {
          field: F.x, type: 'quantitative', title: o.xTitle ?? stepF,
          ...(o.logX ? { scale: { ...logScale, base: 2 }, axis: { format: '~r', ...(xs.length ? { values: pow2Ticks(Math.min(...xs), Math.max(...xs), 6, xs) } : {}) } } : {}),
        },
        y: {
          field: F.y,
          type: 'quantitative',
          title: yTitle,
          scale: logY ? logScale : { zero: false },
          ...(logY && values.length ? { axis: logAxis(Math.min(...ys), Math.max(...ys)) } : {}),
        },
        color: seriesColor(modelF, values, 'set1'),
        ...(models.length <= 2 ? { strokeWidth: { field: F.series, type: 'nominal' as const, title: modelF, sort: models, scale: { domain: models, range: [3.5, 1.5] } } } : { strokeWidth: { value: 1.5 } }),
        ...(o.split
          ? {
              strokeDash: {
                field: F.dash,
                type: 'nominal' as const,
                title: o.split,
                sort: firstAppearance(values.map((v) => v[F.dash] as string)),
              },
            }
          : {}),
        ...(o.detail ? { detail: { field: F.line, type: 'nominal' as const } } : {}),
        tooltip: [
          { field: F.series, type: 'nominal', title: modelF },
          ...(o.split ? [{ field: F.dash, type: 'nominal' as const, title: o.split }] : []),
          ...(o.detail ? [{ field: F.line, type: 'nominal' as const, title: o.detail }] : []),
          { field: F.x, type: 'quantitative', title: stepF },
          { field: F.y, type: 'quantitative', title: valF, format: '.4~g' },
        ],
      },
    },
  ];
  return chart.spec(layers, undefined, { yTitle });
}
