// Training dynamics: loss over steps of the network vs its linearization.

import { F, firstAppearance, fmtScalar, num, type DataRow, type LayerItem, type TopLevelSpec } from './data.ts';
import { facet, type PanelOptions } from './facet.ts';
import { logScale, logAxis, sciAxis, seriesColor, zoomParam } from './style.ts';

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
  const layers: LayerItem[] = [
    {
      name: 'lines',
      params: [zoomParam],
      mark: { type: 'line', strokeWidth: 1.5, opacity: o.detail ? 0.6 : 1, tooltip: true },
      encoding: {
        x: { field: F.x, type: 'quantitative', title: o.xTitle ?? stepF },
        y: {
          field: F.y,
          type: 'quantitative',
          title: o.yTitle ?? (logY ? `${valF} (log scale)` : valF),
          scale: logY ? logScale : { zero: false },
          ...(logY ? { axis: values.length ? logAxis(Math.min(...ys), Math.max(...ys)) : sciAxis() } : {}),
        },
        color: seriesColor(modelF, values, 'set1'),
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
  return chart.spec(layers);
}
