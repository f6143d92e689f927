// Slope comparison: per claim, the slope measured in each fitted group (point + 95% interval)
// next to the paper's slope and the theorem's bound, so a reader compares marks, not table rows.

import { F, firstAppearance, type DataRow, type Datum, type LayerItem, type TopLevelSpec } from './data.ts';
import { facet } from './facet.ts';

/** One fitted group of one claim. `paper` and `bound` belong to the claim (equal across its rows). */
export interface SlopeRow {
  claim: string;
  group: string;
  slope: number | null;
  lo: number | null;
  hi: number | null;
  paper: number | null;
  bound: number | null;
}

export interface SlopesChartOptions {
  rows: readonly SlopeRow[];
  title?: string;
  width?: number;
}

/** The legend's entries: one colour each, named for what they are. */
const SLOPE_MARKS = { measured: 'measured here (95% interval)', paper: 'paper’s slope', bound: 'bound (theorem)' } as const;

/** Words of `s` in lines of at most `width` characters, joined by newlines (the axis splits them). */
function wrap(s: string, width: number): string {
  const lines: string[] = [];
  for (const w of s.split(/\s+/)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 1 + w.length <= width) lines[last] += ` ${w}`;
    else lines.push(w);
  }
  return lines.join('\n');
}

/** Claim labels wrap at this many characters. */
const LABEL_CHARS = 34;
/** A claim's band: enough for a short claim's groups to sit apart, at most this tall for many groups. */
const BAND_MIN = 34;
const BAND_MAX = 64;

export function slopesChart(o: SlopesChartOptions): TopLevelSpec {
  const rows = o.rows.map((r) => ({ ...r, claim: wrap(r.claim, LABEL_CHARS) })) as unknown as DataRow[];
  const claims = firstAppearance(rows.map((r) => r.claim as string));
  const chart = facet(rows, { ...(o.title ? { title: o.title } : {}), ...(o.width ? { width: o.width } : {}) }, { width: 640, height: 0 }, (r) => {
    if (typeof r.slope !== 'number' || !Number.isFinite(r.slope)) return null;
    return {
      [F.kind]: 'measured',
      [F.series]: SLOPE_MARKS.measured,
      [F.panel]: 'all',
      [F.label]: r.claim,
      [F.line]: r.group,
      [F.x]: r.slope,
      _lo: typeof r.lo === 'number' ? r.lo : r.slope,
      _hi: typeof r.hi === 'number' ? r.hi : r.slope,
    };
  });
  const { values } = chart;
  // One paper and one bound mark per claim (the first group's values stand for the claim).
  for (const c of claims) {
    const r = rows.find((x) => x.claim === c)!;
    for (const [kind, v] of [['paper', r.paper], ['bound', r.bound]] as const)
      if (v !== null && Number.isFinite(v)) values.push({ [F.kind]: kind, [F.series]: SLOPE_MARKS[kind], [F.panel]: 'all', [F.label]: c, [F.x]: v } satisfies Datum);
  }
  const groupsPerClaim = Math.max(1, ...claims.map((c) => new Set(rows.filter((r) => r.claim === c).map((r) => r.group)).size));
  const lines = Math.max(1, ...claims.map((c) => c.split('\n').length));
  const y = {
    field: F.label,
    type: 'nominal' as const,
    title: null,
    sort: claims,
    scale: { domain: claims, paddingInner: 0.25 },
    axis: { labelExpr: "split(datum.label, '\\n')", labelLimit: 0, labelFontSize: 12, labelLineHeight: 14, grid: true, gridColor: '#f0f0f0' },
  };
  const x = { field: F.x, type: 'quantitative' as const, title: 'slope of log(value) vs log(width)', scale: { zero: false, nice: true }, axis: { tickCount: 8 } };
  const color = {
    field: F.series,
    type: 'nominal' as const,
    title: null,
    scale: { domain: Object.values(SLOPE_MARKS), range: ['#1f5fa8', '#111111', '#c0392b'] },
    legend: { orient: 'top' as const, direction: 'horizontal' as const, symbolType: 'stroke', symbolStrokeWidth: 3, labelLimit: 0 },
  };
  const measuredTip = [
    { field: F.label, type: 'nominal' as const, title: 'claim' },
    { field: F.line, type: 'nominal' as const, title: 'group' },
    { field: F.x, type: 'quantitative' as const, title: 'slope', format: '.3f' },
    { field: '_lo', type: 'quantitative' as const, title: '95% low', format: '.3f' },
    { field: '_hi', type: 'quantitative' as const, title: '95% high', format: '.3f' },
  ];
  const yOffset = { field: F.line, type: 'nominal' as const, scale: { paddingInner: 0.2 } };
  const layers: LayerItem[] = [
    {
      name: 'intervals',
      transform: [{ filter: `datum.${F.kind} === 'measured'` }],
      mark: { type: 'rule', strokeWidth: 2 },
      encoding: { y, yOffset, x: { ...x, field: '_lo' }, x2: { field: '_hi' }, color, tooltip: measuredTip },
    },
    {
      name: 'measured',
      transform: [{ filter: `datum.${F.kind} === 'measured'` }],
      mark: { type: 'point', filled: true, size: 36, opacity: 1 },
      encoding: { y, yOffset, x, color, tooltip: measuredTip },
    },
    ...(['paper', 'bound'] as const).map(
      (kind): LayerItem => ({
        name: kind,
        transform: [{ filter: `datum.${F.kind} === '${kind}'` }],
        mark: { type: 'tick', thickness: kind === 'bound' ? 3 : 2, ...(kind === 'bound' ? { strokeDash: [4, 2] } : {}) },
        encoding: {
          y,
          x,
          color,
          tooltip: [
            { field: F.label, type: 'nominal' as const, title: 'claim' },
            { field: F.series, type: 'nominal' as const, title: 'mark' },
            { field: F.x, type: 'quantitative' as const, title: 'slope', format: '.2f' },
          ],
        },
      }),
    ),
  ];
  const spec = chart.spec(layers, 'Per claim: measured slopes with 95% intervals (one per fitted group), the paper’s slope and the bound.') as unknown as Record<string, unknown>;
  // Height from the number of claims, their label lines and groups, within bounds: a claim with
  // many groups gets a dense strip, not a screen of its own.
  const band = Math.min(BAND_MAX, Math.max(BAND_MIN, 16 * lines, 7 * groupsPerClaim));
  return { ...spec, height: claims.length * band } as TopLevelSpec;
}
