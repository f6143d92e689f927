// Log-log scaling chart: measured points, fitted power laws and labelled reference slopes.

import { F, fmtScalar, matches, signed, num, positive, type DataRow, type LayerItem, type Scalar, type TopLevelSpec } from './data.ts';
import { facet, type PanelOptions } from './facet.ts';
import { nearFloor } from '../../stats/powerlaw.ts';
import { logScale, logAxis, ofKind, pow2Ticks, seriesColor, zoomParam } from './style.ts';

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

/** A reference slope: a theorem's bound, an expectation or the paper's data; never this data. */
export interface ReferenceSlope {
  /** Panels it applies to (a subset of the panel field values); omitted: every panel. */
  key?: Record<string, Scalar>;
  slope: number;
  /** This panel's line, as given (shown in its tooltip): what it is and its slope. */
  label: string;
  /** The legend entry, shared by every panel that draws this kind of line (default: label). One
   *  dash pattern per entry, so entries should not vary by panel (say `2α+1`, not `= +2`). */
  legend?: string;
}

/** Dash patterns of reference lines, one per legend entry, in order. */
const REFERENCE_DASHES = [[6, 4], [2, 3], [10, 3, 2, 3], [1, 5], [12, 6]];

export interface ScalingChartOptions extends PanelOptions {
  /** One row per (seed, width) measurement. Rows with non-positive or non-finite x/y are not drawn
   *  (a log axis cannot show them); the fit's exclusion counts report them. */
  rows: readonly DataRow[];
  /** Width field (default 'width'). */
  x?: string;
  /** Value field (default 'value'). */
  y?: string;
  /** Seed field (default 'seed'): shown in tooltips. */
  seed?: string;
  /** Field that colours points and fitted lines within a panel, e.g. 'depth'. */
  colorBy?: string;
  fits?: readonly FitLine[];
  references?: readonly ReferenceSlope[];
  xTitle?: string;
  yTitle?: string;
  /** Log base of the x axis (default 2: widths are powers of two). */
  xBase?: number;
  /** Field holding each row's measured rounding floor of y: points within 10x of it (left out of
   *  the fits, stats/powerlaw.ts nearFloor) are drawn hollow and grey. */
  floor?: string;
  /** Per-seed points are drawn while no (panel, series, width) holds more than this many (default
   *  5); beyond, the median across seeds with a 25–75% band, and the points behind a checkbox. */
  seedsShown?: number;
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
  const seriesOf = (r: Record<string, Scalar>) => (o.colorBy ? fmtScalar(r[o.colorBy] ?? null) : '');

  const chart = facet(o.rows, o, { width: 220, height: 170 }, (r, p) => {
    const x = num(r[xf]);
    const y = num(r[yf]);
    if (!positive(x) || !positive(y)) return null;
    const floor = o.floor ? r[o.floor] : null;
    const kind = nearFloor({ y, floor: typeof floor === 'number' ? floor : null }) ? 'floored' : 'point';
    return { [F.kind]: kind, [F.panel]: p, [F.series]: seriesOf(r), [F.x]: x, [F.y]: y, [F.seed]: r[sf] ?? null };
  });
  const { values, panels } = chart;
  const points = values.slice();

  // Beyond a handful of seeds the per-seed points become a tangle: draw the median across seeds
  // per width with a 25–75% band, and the per-seed points only when the reader asks (checkbox).
  const cells = new Map<string, number[]>();
  for (const v of points) {
    const k = JSON.stringify([v[F.panel], v[F.series], v[F.x]]);
    const ys = cells.get(k) ?? [];
    ys.push(v[F.y] as number);
    cells.set(k, ys);
  }
  const aggregated = Math.max(0, ...[...cells.values()].map((ys) => ys.length)) > (o.seedsShown ?? 5);
  if (aggregated)
    for (const [k, ys] of cells) {
      const [panel, series, x] = JSON.parse(k) as [string, string, number];
      const q = quantiles(ys);
      values.push({ [F.kind]: 'median', [F.panel]: panel, [F.series]: series, [F.x]: x, [F.y]: q.median, _lo: q.lo, _hi: q.hi, _n: ys.length });
    }

  // Fitted lines: two endpoints each (a straight line on log-log axes).
  let lineNo = 0;
  for (const f of o.fits ?? []) {
    if (f.slope === null || f.intercept === null || f.xMin === null || f.xMax === null) continue;
    const p = chart.panelOf(f.key);
    if (!panels.has(p)) continue;
    const id = `fit${lineNo++}`;
    const ci = f.ciLo != null && f.ciHi != null ? `[${signed(f.ciLo)}, ${signed(f.ciHi)}]` : 'n/a';
    for (const x of [f.xMin, f.xMax]) {
      values.push({
        [F.kind]: 'fit',
        [F.panel]: p,
        [F.series]: seriesOf(f.key),
        [F.x]: x,
        [F.y]: Math.exp(f.intercept + f.slope * Math.log(x)),
        [F.line]: id,
        [F.label]: `fitted slope ${signed(f.slope)}, 95% CI ${ci}`,
      });
    }
  }

  // Reference lines, anchored at the geometric mean of the panel's points. They are named in a
  // legend below the panels, not by text inside them, so no label sits on the data.
  const legends: string[] = [];
  for (const [p, key] of panels) {
    const refs = (o.references ?? []).filter((r) => matches(key, r.key));
    if (!refs.length) continue;
    const pts = points.filter((v) => v[F.panel] === p);
    const lx = pts.map((v) => Math.log(v[F.x] as number));
    const ly = pts.map((v) => Math.log(v[F.y] as number));
    const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
    const my = ly.reduce((a, b) => a + b, 0) / ly.length;
    const x0 = Math.exp(Math.min(...lx));
    const x1 = Math.exp(Math.max(...lx));
    for (const r of refs) {
      const id = `ref${lineNo++}`;
      const legend = r.legend ?? r.label;
      if (!legends.includes(legend)) legends.push(legend);
      for (const x of [x0, x1]) {
        values.push({ [F.kind]: 'ref', [F.panel]: p, [F.x]: x, [F.y]: Math.exp(my + r.slope * (Math.log(x) - mx)), [F.line]: id, [F.label]: r.label, [F.dash]: legend });
      }
    }
  }
  if (legends.length > REFERENCE_DASHES.length) throw new Error(`scalingChart: ${legends.length} kinds of reference line, at most ${REFERENCE_DASHES.length} dash patterns: ${legends.join(' | ')}`);

  // Widths print without thousands separators: "1024", "16384" (narrower, and as in configs); at
  // most six of them, powers of two, since the x scale is shared by every panel.
  const xs = points.map((v) => v[F.x] as number);
  const ys = points.map((v) => v[F.y] as number);
  // Aggregated, the per-seed points are left out of the drawing until asked for (thousands of
  // invisible marks cost most of a paper-scale figure's draw), so the scales take their domains
  // from every value, hidden points included: the axes do not jump when the points appear.
  const domainOf = (field: string): { domain?: [number, number] } => {
    if (!aggregated) return {};
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values)
      for (const a of field === F.y ? [v[field], v._lo, v._hi] : [v[field]])
        if (typeof a === 'number' && a > 0 && Number.isFinite(a)) {
          lo = Math.min(lo, a);
          hi = Math.max(hi, a);
        }
    return lo <= hi ? { domain: [lo, hi] } : {};
  };
  const xEnc = {
    field: F.x,
    type: 'quantitative' as const,
    title: o.xTitle ?? `${xf} (log scale)`,
    scale: { ...logScale, base: o.xBase ?? 2, ...domainOf(F.x) },
    axis: { format: '~r', labelFlush: false, ...(xs.length ? { values: pow2Ticks(Math.min(...xs), Math.max(...xs), 6, xs) } : {}) },
  };
  // One y scale for every panel (they are compared), with explicit ticks: at least three labels.
  const yAxis = ys.length ? logAxis(Math.min(...ys), Math.max(...ys)) : {};
  const yTitle = o.yTitle ?? `${yf} (log scale)`;
  const yEnc = { field: F.y, type: 'quantitative' as const, title: yTitle, scale: { ...logScale, ...domainOf(F.y) }, axis: yAxis };
  // Without a colour field every kind of mark is one legend entry (a colour each); with one, the
  // colour names the series and the caption the marks.
  const marks = {
    point: aggregated ? 'one seed at one width (shown with the checkbox)' : 'measured: one seed at one width',
    median: `median across seeds per width; band: 25–75% of seeds`,
    fit: 'least-squares fit of log y on log width (data)',
    floored: 'within 10× of its rounding floor (left out of the fit)',
  } as const;
  const kinds = new Set(values.map((v) => v[F.kind]));
  const shown = (Object.keys(marks) as (keyof typeof marks)[]).filter((k) => kinds.has(k));
  const markColors: Record<keyof typeof marks, string> = { point: aggregated ? '#9bbcd9' : '#1f77b4', median: '#1f77b4', fit: '#d62728', floored: '#999999' };
  const markColor = (k: keyof typeof marks) =>
    o.colorBy
      ? k === 'floored' ? { color: { value: '#999' } } : { color: seriesColor(o.colorBy, points, 'tableau10') }
      : { color: { datum: marks[k], title: 'Marks', scale: { domain: shown.map((m) => marks[m]), range: shown.map((m) => markColors[m]) }, legend: { orient: 'bottom' as const, direction: 'vertical' as const, labelLimit: 0 } } };
  const color = markColor('point');
  const solid = {};
  const showSeeds = { name: 'seeds', value: false, bind: { input: 'checkbox', name: 'show per-seed points ' } };
  // Aggregated, the per-seed points are drawn only while the checkbox is on.
  const onDemand = (kind: string) => (aggregated ? [...ofKind(kind), { filter: 'seeds' }] : ofKind(kind));

  // Lines first, then points on top (so hovering a point shows the point), then labels.
  const layers: LayerItem[] = [
    {
      name: 'fits',
      transform: ofKind('fit'),
      mark: { type: 'line', strokeWidth: 2 },
      encoding: {
        x: xEnc,
        y: yEnc,
        detail: { field: F.line, type: 'nominal' },
        ...markColor('fit'),
        tooltip: [{ field: F.label, type: 'nominal', title: 'fit (data)' }],
      },
    },
    {
      name: 'references',
      transform: ofKind('ref'),
      mark: { type: 'line', color: '#555', strokeWidth: 1.5 },
      encoding: {
        x: xEnc,
        y: yEnc,
        detail: { field: F.line, type: 'nominal' },
        // No reference lines, no legend (an empty one would still show its title).
        ...(legends.length
          ? {
              strokeDash: {
                field: F.dash,
                type: 'nominal' as const,
                title: 'Dashed grey: reference slopes (not fits to this data)',
                scale: { domain: legends, range: REFERENCE_DASHES.slice(0, legends.length) },
                legend: { orient: 'bottom' as const, direction: 'vertical' as const, symbolStrokeColor: '#555', symbolStrokeWidth: 1.5, symbolSize: 500, labelLimit: 0, titleLimit: 0 },
              },
            }
          : {}),
        tooltip: [{ field: F.label, type: 'nominal', title: 'reference' }],
      },
    },
    {
      name: 'band',
      transform: ofKind('median'),
      mark: { type: 'area', opacity: 0.25 },
      encoding: { x: xEnc, y: { ...yEnc, field: '_lo' }, y2: { field: '_hi' }, ...markColor('median') },
    },
    {
      name: 'medians',
      transform: ofKind('median'),
      ...(aggregated ? { params: [zoomParam] } : {}),
      mark: { type: 'line', point: { filled: true, size: 24 }, strokeWidth: 1.5, tooltip: true },
      encoding: {
        x: xEnc,
        y: yEnc,
        ...markColor('median'),
        tooltip: [
          { field: F.panel, type: 'nominal', title: 'panel' },
          { field: F.x, type: 'quantitative', title: xf },
          { field: F.y, type: 'quantitative', title: `median ${yf}`, format: '.4~g' },
          { field: '_lo', type: 'quantitative', title: '25% of seeds', format: '.4~g' },
          { field: '_hi', type: 'quantitative', title: '75% of seeds', format: '.4~g' },
          { field: '_n', type: 'quantitative', title: 'seeds' },
        ],
      },
    },
    {
      name: 'points',
      transform: onDemand('point'),
      ...(aggregated ? {} : { params: [zoomParam] }),
      mark: { type: 'point', filled: true, size: 28, opacity: 0.7, ...solid },
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
  ];
  if (points.some((v) => v[F.kind] === 'floored')) {
    layers.push({
      name: 'floored',
      transform: onDemand('floored'),
      mark: { type: 'point', filled: false, size: 28, strokeWidth: 1 },
      encoding: {
        x: xEnc,
        y: yEnc,
        ...markColor('floored'),
        tooltip: [
          { field: F.seed, type: 'nominal', title: 'seed (within 10× of its rounding floor: left out of the fit)' },
          { field: F.x, type: 'quantitative', title: xf },
          { field: F.y, type: 'quantitative', title: yf, format: '.4~g' },
        ],
      },
    });
  }
  return chart.spec(
    layers,
    'Log-log scatter: points are measurements (one per seed and width, or their median across seeds with a 25–75% band beyond a handful of seeds; hollow grey: within 10× of the rounding floor measured on that run, left out of the fit); solid lines are fits; dashed grey lines are reference slopes, named in the legend below the panels.',
    { yTitle, ...(aggregated ? { params: [showSeeds] } : {}) },
  );
}

/** Median and 25% / 75% quantiles (linear interpolation between order statistics). */
export function quantiles(ys: readonly number[]): { median: number; lo: number; hi: number } {
  const s = [...ys].sort((a, b) => a - b);
  const at = (q: number) => {
    const h = (s.length - 1) * q;
    const i = Math.floor(h);
    return s[i]! + (h - i) * ((s[Math.min(i + 1, s.length - 1)] ?? s[i]!) - s[i]!);
  };
  return { median: at(0.5), lo: at(0.25), hi: at(0.75) };
}
