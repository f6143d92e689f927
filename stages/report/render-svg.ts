// Vega-Lite chart builders (plain rows in, specs out) and static SVG rendering in Node.
//
// Rendering needs no browser and no canvas: vega-lite compiles the spec to vega, and a
// headless vega View with renderer 'none' serializes the scenegraph to SVG.
// All builders inline their data (`data.values`): nothing is ever fetched.

import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec };

/** A value a data row may hold. */
export type Scalar = string | number | boolean | null;
/** One row of a chart's data (also one CSV line). */
export type DataRow = Record<string, Scalar>;

/** A layer inside a layered spec (derived so that no unstable vega-lite path is imported). */
type LayerItem = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

// ---------------------------------------------------------------------------------------------
// Rendering

/** Compile a vega-lite spec to a vega spec (throws on an invalid spec). */
export function compileToVega(spec: TopLevelSpec): vega.Spec {
  return vl.compile(spec).spec;
}

/**
 * Render a vega-lite spec to a standalone SVG string, in Node, without a browser.
 * Deterministic: vega numbers clip-path ids with a process-wide counter, so ids are renumbered
 * (`id1`, `id2`, ... in order of appearance) and the same spec always gives the same bytes.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compileToVega(spec)), { renderer: 'none' });
  try {
    return renumberSvgIds(await view.toSVG(), 'id');
  } finally {
    view.finalize();
  }
}

/**
 * Rename every id in an SVG to `${prefix}1`, `${prefix}2`, ... in order of first appearance, and
 * rewrite its references (`url(#id)`, `href="#id"`). Gives page-unique ids when several SVGs are
 * inlined in one HTML page (each vega SVG numbers its clip paths on its own).
 */
export function renumberSvgIds(svg: string, prefix: string): string {
  const map = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) if (!map.has(m[1])) map.set(m[1], `${prefix}${map.size + 1}`);
  if (map.size === 0) return svg;
  const to = (id: string) => map.get(id);
  return svg.replace(/(\sid=")([^"]+)"|url\(#([^)]+)\)|(\shref=")#([^"]+)"/g, (all, idAttr, id, urlId, hrefAttr, hrefId) => {
    if (idAttr !== undefined) return to(id) ? `${idAttr}${to(id)}"` : all;
    if (urlId !== undefined) return to(urlId) ? `url(#${to(urlId)})` : all;
    return to(hrefId) ? `${hrefAttr}#${to(hrefId)}"` : all;
  });
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** Chart-wide styling: readable sizes, white background. */
const config = {
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

/** The internal field names every builder normalizes rows to (no dots: vega reads dots as paths). */
const F = {
  kind: '_kind',
  panel: '_panel',
  series: '_series',
  x: '_x',
  y: '_y',
  seed: '_seed',
  line: '_line',
  label: '_label',
  dash: '_dash',
} as const;

function fmtScalar(v: Scalar): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return String(v);
}

/** Default panel label: strings as they are, numbers and booleans as `field=value`. */
export function defaultPanelLabel(key: Record<string, Scalar>): string {
  const parts = Object.entries(key).map(([k, v]) => (typeof v === 'string' ? v : `${k}=${fmtScalar(v)}`));
  return parts.length ? parts.join(' · ') : 'all';
}

function pick(row: DataRow, fields: readonly string[]): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const f of fields) out[f] = row[f] ?? null;
  return out;
}

function num(v: Scalar | undefined): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
}

/** True when `row` has every field of `key` with an equal value (a partial key matches more). */
function matches(row: Record<string, Scalar>, key: Record<string, Scalar> | undefined): boolean {
  if (!key) return true;
  return Object.entries(key).every(([k, v]) => row[k] === v);
}

const positive = (v: number) => Number.isFinite(v) && v > 0;

/** Minus signs that read as minus signs. */
function fmtSlope(s: number): string {
  return (Math.round(s * 100) / 100).toFixed(2).replace('-', '\u2212');
}

/**
 * Wrap layers in a facet (when there is more than one panel) or return a plain layer spec.
 * All layers share one data set and pick their rows with a filter on `_kind`.
 */
function facetOrLayer(args: {
  values: Record<string, Scalar>[];
  layers: LayerItem[];
  panels: string[];
  columns: number;
  width: number;
  height: number;
  title?: string;
  independentY?: boolean;
  independentX?: boolean;
  description?: string;
}): TopLevelSpec {
  const base = {
    ...(args.title ? { title: args.title } : {}),
    ...(args.description ? { description: args.description } : {}),
    data: { values: args.values },
    config,
  };
  if (args.panels.length <= 1) {
    return { ...base, width: args.width, height: args.height, layer: args.layers };
  }
  const scale: { x?: 'independent'; y?: 'independent' } = {};
  if (args.independentX) scale.x = 'independent';
  if (args.independentY) scale.y = 'independent';
  return {
    ...base,
    facet: { field: F.panel, type: 'nominal', title: null, sort: args.panels },
    columns: Math.max(1, Math.min(args.columns, args.panels.length)),
    spec: { width: args.width, height: args.height, layer: args.layers },
    ...(Object.keys(scale).length ? { resolve: { scale } } : {}),
  };
}

/** Log scale fitted to the data (no rounding out to powers of ten), with room for the marks. */
const logScale = { type: 'log' as const, nice: false, padding: 10 };

function firstAppearance(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** A scale-bound interval selection: drag to pan, wheel to zoom, double-click to reset. */
const zoomParam = { name: 'zoom', select: { type: 'interval' as const }, bind: 'scales' as const };

// ---------------------------------------------------------------------------------------------
// Log-log scaling chart

/** A fitted line y = exp(intercept) * x^slope, drawn from xMin to xMax. */
export interface FitLine {
  /** Values of the panel fields (and the colour field, if any) this fit belongs to. */
  key: Record<string, Scalar>;
  slope: number | null;
  /** Natural-log intercept. */
  intercept: number | null;
  xMin: number | null;
  xMax: number | null;
  /** Optional 95% CI of the slope, shown in the tooltip. */
  ciLo?: number | null;
  ciHi?: number | null;
}

/** A reference slope: an expectation (paper value or theory guide), never data. */
export interface ReferenceSlope {
  /** Panels it applies to (a subset of the panel field values); omitted: every panel. */
  key?: Record<string, Scalar>;
  slope: number;
  /** Shown next to the line, e.g. 'theory: slope −1'. The chart appends '(expected)'. */
  label: string;
}

export interface ScalingChartOptions {
  /** One row per (seed, width) measurement. Rows with non-positive or non-finite x/y are not drawn
   *  (a log axis cannot show them); the fit's exclusion counts report them. */
  rows: readonly DataRow[];
  /** Width field (default 'width'). */
  x?: string;
  /** Value field (default 'value'). */
  y?: string;
  /** Seed field (default 'seed'): shown in tooltips. */
  seed?: string;
  /** Fields that define one panel each, e.g. ['dataset', 'activation'] or ['alpha']. */
  panelBy?: readonly string[];
  /** Field that colours points and fitted lines within a panel, e.g. 'depth'. */
  colorBy?: string;
  /** Panels per row (default 3). */
  columns?: number;
  fits?: readonly FitLine[];
  references?: readonly ReferenceSlope[];
  title?: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
  /** Let each panel have its own y range (default false: shared, comparable). */
  independentY?: boolean;
  panelLabel?: (key: Record<string, Scalar>) => string;
  /** Log base of the x axis (default 2: widths are powers of two). */
  xBase?: number;
}

/**
 * Log-log scatter of value vs width, one point per (seed, width), faceted by `panelBy`, with the
 * fitted power law of each (panel, colour) group as a solid line and the reference slopes as
 * dashed grey lines anchored at the panel's geometric-mean point, labelled as expectations.
 */
export function scalingChart(o: ScalingChartOptions): TopLevelSpec {
  const xf = o.x ?? 'width';
  const yf = o.y ?? 'value';
  const sf = o.seed ?? 'seed';
  const panelBy = o.panelBy ?? [];
  const label = o.panelLabel ?? defaultPanelLabel;
  const seriesOf = (r: Record<string, Scalar>) => (o.colorBy ? fmtScalar(r[o.colorBy] ?? null) : '');

  // Panels in order of first appearance.
  const panelKeys = new Map<string, Record<string, Scalar>>();
  const values: Record<string, Scalar>[] = [];
  for (const r of o.rows) {
    const x = num(r[xf]);
    const y = num(r[yf]);
    if (!positive(x) || !positive(y)) continue;
    const key = pick(r, panelBy);
    const p = label(key);
    if (!panelKeys.has(p)) panelKeys.set(p, key);
    values.push({ [F.kind]: 'point', [F.panel]: p, [F.series]: seriesOf(r), [F.x]: x, [F.y]: y, [F.seed]: r[sf] ?? null });
  }
  const panels = [...panelKeys.keys()];

  // Fitted lines: two endpoints each (a straight line on log-log axes).
  let lineNo = 0;
  for (const f of o.fits ?? []) {
    if (f.slope === null || f.intercept === null || f.xMin === null || f.xMax === null) continue;
    const p = label(pick(f.key, panelBy));
    if (!panelKeys.has(p)) continue;
    const id = `fit${lineNo++}`;
    const ci =
      f.ciLo != null && f.ciHi != null ? `[${fmtSlope(f.ciLo)}, ${fmtSlope(f.ciHi)}]` : 'n/a';
    for (const x of [f.xMin, f.xMax]) {
      values.push({
        [F.kind]: 'fit',
        [F.panel]: p,
        [F.series]: seriesOf(f.key),
        [F.x]: x,
        [F.y]: Math.exp(f.intercept + f.slope * Math.log(x)),
        [F.line]: id,
        [F.label]: `fitted slope ${fmtSlope(f.slope)}, 95% CI ${ci}`,
      });
    }
  }

  // Reference lines, anchored at the geometric mean of the panel's points.
  for (const [p, key] of panelKeys) {
    const refs = (o.references ?? []).filter((r) => matches(key, r.key));
    if (!refs.length) continue;
    const pts = values.filter((v) => v[F.kind] === 'point' && v[F.panel] === p);
    const lx = pts.map((v) => Math.log(v[F.x] as number));
    const ly = pts.map((v) => Math.log(v[F.y] as number));
    const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
    const my = ly.reduce((a, b) => a + b, 0) / ly.length;
    const x0 = Math.exp(Math.min(...lx));
    const x1 = Math.exp(Math.max(...lx));
    refs.forEach((r, i) => {
      const id = `ref${lineNo++}`;
      const text = `${r.label} (expected)`;
      for (const x of [x0, x1]) {
        values.push({
          [F.kind]: 'ref',
          [F.panel]: p,
          [F.x]: x,
          [F.y]: Math.exp(my + r.slope * (Math.log(x) - mx)),
          [F.line]: id,
          [F.label]: text,
          [F.dash]: i,
        });
      }
      // Label 0 at the left end, label 1 at the right end, others below the left end.
      const atRight = i === 1;
      const xl = atRight ? x1 : x0;
      values.push({
        [F.kind]: 'reflabel',
        [F.panel]: p,
        [F.x]: xl,
        [F.y]: Math.exp(my + r.slope * (Math.log(xl) - mx)),
        [F.label]: text,
        [F.dash]: i === 0 ? 'left' : atRight ? 'right' : 'below',
      });
    });
  }

  const xTitle = o.xTitle ?? `${xf} (log scale)`;
  const yTitle = o.yTitle ?? `${yf} (log scale)`;
  // Widths print without thousands separators: "1024", "16384" (narrower, and as in configs).
  const xEnc = {
    field: F.x,
    type: 'quantitative' as const,
    title: xTitle,
    scale: { ...logScale, base: o.xBase ?? 2 },
    axis: { format: '~r', labelFlush: false },
  };
  const yEnc = { field: F.y, type: 'quantitative' as const, title: yTitle, scale: logScale };
  const series = firstAppearance(values.filter((v) => v[F.kind] === 'point').map((v) => v[F.series] as string));
  const color = o.colorBy
    ? { color: { field: F.series, type: 'nominal' as const, title: o.colorBy, sort: series, scale: { scheme: 'tableau10' } } }
    : {};

  // Lines first, then points on top (so hovering a point shows the point), then labels.
  const layers: LayerItem[] = [
    {
      name: 'fits',
      transform: [{ filter: `datum.${F.kind} === 'fit'` }],
      mark: { type: 'line', strokeWidth: 2, ...(o.colorBy ? {} : { color: '#1f77b4' }) },
      encoding: {
        x: xEnc,
        y: yEnc,
        detail: { field: F.line, type: 'nominal' },
        ...color,
        tooltip: [{ field: F.label, type: 'nominal', title: 'fit (data)' }],
      },
    },
    {
      name: 'references',
      transform: [{ filter: `datum.${F.kind} === 'ref'` }],
      mark: { type: 'line', color: '#555', strokeWidth: 1.5, strokeDash: [6, 4] },
      encoding: {
        x: xEnc,
        y: yEnc,
        detail: { field: F.line, type: 'nominal' },
        tooltip: [{ field: F.label, type: 'nominal', title: 'reference' }],
      },
    },
    {
      name: 'points',
      transform: [{ filter: `datum.${F.kind} === 'point'` }],
      params: [zoomParam],
      mark: { type: 'point', filled: true, size: 28, opacity: 0.7, ...(o.colorBy ? {} : { color: '#1f77b4' }) },
      encoding: {
        x: xEnc,
        y: yEnc,
        ...color,
        tooltip: [
          { field: F.panel, type: 'nominal', title: 'panel' },
          ...(o.colorBy ? [{ field: F.series, type: 'nominal' as const, title: o.colorBy }] : []),
          { field: F.seed, type: 'nominal', title: 'seed' },
          { field: F.x, type: 'quantitative', title: xf },
          { field: F.y, type: 'quantitative', title: yf, format: '.4~g' },
        ],
      },
    },
    ...(
      [
        ['left', { align: 'left', baseline: 'bottom', dx: 2, dy: -3 }],
        ['right', { align: 'right', baseline: 'bottom', dx: -2, dy: -3 }],
        ['below', { align: 'left', baseline: 'top', dx: 2, dy: 3 }],
      ] as const
    ).map(
      ([pos, place]): LayerItem => ({
        name: `reference_labels_${pos}`,
        transform: [{ filter: `datum.${F.kind} === 'reflabel' && datum.${F.dash} === '${pos}'` }],
        mark: { type: 'text', ...place, fontSize: 10, fontStyle: 'italic', color: '#333' },
        encoding: { x: xEnc, y: yEnc, text: { field: F.label, type: 'nominal' } },
      }),
    ),
  ];
  return facetOrLayer({
    values,
    layers,
    panels,
    columns: o.columns ?? 3,
    width: o.width ?? 220,
    height: o.height ?? 170,
    title: o.title,
    independentY: o.independentY,
    description: 'Log-log scatter: points are measurements (one per seed and width); solid lines are fits; dashed grey lines are expected slopes.',
  });
}

// ---------------------------------------------------------------------------------------------
// Training dynamics

export interface DynamicsChartOptions {
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
  panelBy?: readonly string[];
  columns?: number;
  /** Log y axis (default true). */
  logY?: boolean;
  title?: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
  independentY?: boolean;
  panelLabel?: (key: Record<string, Scalar>) => string;
}

/** Line chart of loss over training steps: the network vs its linearization, per panel. */
export function dynamicsChart(o: DynamicsChartOptions): TopLevelSpec {
  const stepF = o.step ?? 'step';
  const valF = o.value ?? 'loss';
  const modelF = o.model ?? 'model';
  const panelBy = o.panelBy ?? [];
  const label = o.panelLabel ?? defaultPanelLabel;
  const logY = o.logY ?? true;
  const panels: string[] = [];
  const values: Record<string, Scalar>[] = [];
  for (const r of o.rows) {
    const x = num(r[stepF]);
    const y = num(r[valF]);
    if (!Number.isFinite(x) || !Number.isFinite(y) || (logY && y <= 0)) continue;
    const p = label(pick(r, panelBy));
    if (!panels.includes(p)) panels.push(p);
    values.push({
      [F.kind]: 'loss',
      [F.panel]: p,
      [F.series]: fmtScalar(r[modelF] ?? null),
      [F.dash]: o.split ? fmtScalar(r[o.split] ?? null) : '',
      [F.line]: o.detail ? fmtScalar(r[o.detail] ?? null) : '',
      [F.x]: x,
      [F.y]: y,
    });
  }
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
        },
        color: {
          field: F.series,
          type: 'nominal',
          title: modelF,
          sort: firstAppearance(values.map((v) => v[F.series] as string)),
          scale: { scheme: 'set1' },
        },
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
  return facetOrLayer({
    values,
    layers,
    panels,
    columns: o.columns ?? 3,
    width: o.width ?? 220,
    height: o.height ?? 150,
    title: o.title,
    independentY: o.independentY,
  });
}

// ---------------------------------------------------------------------------------------------
// Estimator comparison

export interface EstimatorChartOptions {
  /** One row per compared quantity (e.g. per width, depth, seed). */
  rows: readonly DataRow[];
  /** Exact estimator field (default 'exact'): x axis. */
  x?: string;
  /** Sampled estimator field (default 'sampled'): y axis. */
  y?: string;
  colorBy?: string;
  /** Extra fields shown in the tooltip, e.g. ['width', 'seed']. */
  tooltipFields?: readonly string[];
  panelBy?: readonly string[];
  columns?: number;
  title?: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
  panelLabel?: (key: Record<string, Scalar>) => string;
}

/** Log-log scatter of one estimator against another, with the y = x line (agreement). */
export function estimatorChart(o: EstimatorChartOptions): TopLevelSpec {
  const xf = o.x ?? 'exact';
  const yf = o.y ?? 'sampled';
  const panelBy = o.panelBy ?? [];
  const label = o.panelLabel ?? defaultPanelLabel;
  const extra = o.tooltipFields ?? [];
  const panels: string[] = [];
  const values: Record<string, Scalar>[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of o.rows) {
    const x = num(r[xf]);
    const y = num(r[yf]);
    if (!positive(x) || !positive(y)) continue;
    const p = label(pick(r, panelBy));
    if (!panels.includes(p)) panels.push(p);
    lo = Math.min(lo, x, y);
    hi = Math.max(hi, x, y);
    const v: Record<string, Scalar> = {
      [F.kind]: 'point',
      [F.panel]: p,
      [F.series]: o.colorBy ? fmtScalar(r[o.colorBy] ?? null) : '',
      [F.x]: x,
      [F.y]: y,
    };
    extra.forEach((f, i) => (v[`_t${i}`] = r[f] ?? null));
    values.push(v);
  }
  if (Number.isFinite(lo)) {
    for (const p of panels)
      for (const x of [lo, hi]) values.push({ [F.kind]: 'diag', [F.panel]: p, [F.x]: x, [F.y]: x, [F.label]: 'y = x (agreement)' });
  }
  // Same domain on both axes, so y = x is the square's diagonal.
  const same = Number.isFinite(lo) ? { ...logScale, domain: [lo, hi] } : logScale;
  const xEnc = { field: F.x, type: 'quantitative' as const, title: o.xTitle ?? `${xf} (log scale)`, scale: same };
  const yEnc = { field: F.y, type: 'quantitative' as const, title: o.yTitle ?? `${yf} (log scale)`, scale: same };
  const layers: LayerItem[] = [
    {
      name: 'diagonal',
      transform: [{ filter: `datum.${F.kind} === 'diag'` }],
      mark: { type: 'line', color: '#555', strokeDash: [6, 4], strokeWidth: 1.5 },
      encoding: { x: xEnc, y: yEnc, tooltip: [{ field: F.label, type: 'nominal', title: 'reference' }] },
    },
    {
      name: 'points',
      transform: [{ filter: `datum.${F.kind} === 'point'` }],
      params: [zoomParam],
      mark: { type: 'point', filled: true, size: 30, opacity: 0.75, ...(o.colorBy ? {} : { color: '#1f77b4' }) },
      encoding: {
        x: xEnc,
        y: yEnc,
        ...(o.colorBy
          ? {
              color: {
                field: F.series,
                type: 'nominal' as const,
                title: o.colorBy,
                sort: firstAppearance(values.filter((v) => v[F.kind] === 'point').map((v) => v[F.series] as string)),
                scale: { scheme: 'tableau10' },
              },
            }
          : {}),
        tooltip: [
          ...(o.colorBy ? [{ field: F.series, type: 'nominal' as const, title: o.colorBy }] : []),
          ...extra.map((f, i) => ({ field: `_t${i}`, type: 'nominal' as const, title: f })),
          { field: F.x, type: 'quantitative', title: xf, format: '.4~g' },
          { field: F.y, type: 'quantitative', title: yf, format: '.4~g' },
        ],
      },
    },
  ];
  return facetOrLayer({
    values,
    layers,
    panels,
    columns: o.columns ?? 3,
    width: o.width ?? 240,
    height: o.height ?? 220,
    title: o.title,
  });
}

// ---------------------------------------------------------------------------------------------
// Run timeline

/** One task's wall-clock interval, in seconds since the run started. */
export interface TimelineRow {
  stage: string;
  task: string;
  start: number;
  end: number;
  /** e.g. 'executed', 'cached', 'failed', 'diverged'. */
  status?: string;
}

/** Gantt-style chart: one thin bar per task on its stage's row, coloured by status. */
export function timelineChart(rows: readonly TimelineRow[], opts: { title?: string; width?: number } = {}): TopLevelSpec {
  const stages: string[] = [];
  for (const r of rows) if (!stages.includes(r.stage)) stages.push(r.stage);
  return {
    ...(opts.title ? { title: opts.title } : {}),
    config,
    width: opts.width ?? 640,
    height: { step: 22 },
    data: {
      values: rows.map((r) => ({
        stage: r.stage,
        task: r.task,
        start: r.start,
        end: Math.max(r.end, r.start),
        dur: Math.max(0, r.end - r.start),
        status: r.status ?? 'executed',
      })),
    },
    params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }],
    mark: { type: 'bar', opacity: 0.55, height: 14 },
    encoding: {
      y: { field: 'stage', type: 'nominal', sort: stages, title: null },
      x: { field: 'start', type: 'quantitative', title: 'seconds since start' },
      x2: { field: 'end' },
      color: {
        field: 'status',
        type: 'nominal',
        title: 'status',
        scale: {
          domain: ['executed', 'cached', 'failed', 'diverged'],
          range: ['#4c78a8', '#9ecae9', '#e45756', '#f58518'],
        },
      },
      tooltip: [
        { field: 'task', type: 'nominal' },
        { field: 'status', type: 'nominal' },
        { field: 'start', type: 'quantitative', format: '.2f', title: 'start (s)' },
        { field: 'dur', type: 'quantitative', format: '.2f', title: 'duration (s)' },
      ],
    },
  };
}
