// What protocols use to turn their fits into report content: scaling figures with fit and
// reference lines, and headline rows. The report stage itself only iterates the registry.
import type { FitGroupResult, Row } from '../contracts/fits.ts';
import type { FigureInput, HeadlineRow } from './html.ts';
import { scalingChart, signed, type DataRow, type FitLine, type ReferenceSlope } from './charts/index.ts';


/** A group key as a short label: `mnist / relu / L2`, `α = -0.5`. */
export const keyLabel = (k: Record<string, unknown>): string =>
  Object.entries(k).map(([name, v]) => (name === 'depth' ? `L${v}` : name === 'alpha' ? `α = ${v}` : name === 'beta' ? `β = ${v}` : String(v))).join(' / ');

function fitLines(groups: FitGroupResult[]): FitLine[] {
  return groups.map((g) => ({ key: g.key, slope: g.fit.slope, intercept: g.fit.intercept, xMin: g.fit.xMin, xMax: g.fit.xMax, ciLo: g.fit.ci?.lo ?? null, ciHi: g.fit.ci?.hi ?? null }));
}

function references(groups: FitGroupResult[]): ReferenceSlope[] {
  const refs: ReferenceSlope[] = [];
  for (const g of groups) {
    for (const e of g.expectations) refs.push({ key: g.key, slope: e.slope, label: e.label, ...(e.legend === undefined ? {} : { legend: e.legend }) });
    // The paper's fitted slope is its data, not an expectation.
    if (g.paper !== null) refs.push({ key: g.key, slope: g.paper, label: `paper (data): slope ${g.paper}`, legend: "paper's fitted slope (the paper's data)" });
  }
  return refs;
}

const expText = (g: FitGroupResult): string => g.expectations.map((e) => e.label).join('; ');

/** `widths 16–256 (paper: 8–1024)`: so nobody compares different width ranges silently. */
const widthsNote = (g: FitGroupResult, paperWidths: readonly [number, number] | null): string =>
  `widths ${g.fit.xMin === null || g.fit.xMax === null ? '— (nothing fitted)' : `${g.fit.xMin}–${g.fit.xMax}`}${paperWidths ? ` (paper: ${paperWidths[0]}–${paperWidths[1]})` : ''}`;

/**
 * One headline row per fitted group: `claim(g)` names it, the theory column lists its reference
 * lines, the note starts with the fitted width range next to the paper's.
 */
export function headline(groups: FitGroupResult[], claim: (g: FitGroupResult) => string, paperWidths: readonly [number, number] | null = null): HeadlineRow[] {
  return groups.map((g) => ({
    claim: claim(g),
    paper: g.paper === null ? null : signed(g.paper),
    theory: expText(g),
    slope: g.fit.slope, ciLo: g.fit.ci?.lo ?? null, ciHi: g.fit.ci?.hi ?? null, r2: g.fit.r2,
    nPoints: g.fit.nPoints, nSeeds: g.fit.nSeeds, excluded: g.fit.excluded.excluded,
    note: [widthsNote(g, paperWidths), g.fit.ciNote].filter((x) => x).join('; '),
  }));
}

export const DATA_NOTE = 'Points: one per seed and width (data). Solid lines: least-squares fits of log y on log n (data). Dashed grey lines: reference slopes, named in the legend below the panels for what each is (a theorem\'s bound, a finite-width expectation, or the paper\'s data), placed through the data\'s centre (not fits to this data); a line\'s tooltip gives its slope in that panel. Intervals: 95% t-intervals over the per-seed slopes.';

export interface ScalingFigure {
  id: string;
  groups: FitGroupResult[];
  rows: Row[];
  /** The fitted column. */
  y: string;
  title: string;
  yTitle: string;
  caption: string;
  /** Columns that make one panel each. */
  panelBy: string[];
  /** The paper's counterpart (FigureInput.paperFigure). */
  paperFigure?: string;
}

/** Measured value vs width on log axes, one panel per group, with the fits and reference slopes. */
export function scalingFigure(f: ScalingFigure): FigureInput {
  const rows = f.rows as DataRow[];
  const drawsReferences = references(f.groups).length > 0;
  const seeds = Math.max(0, ...f.groups.map((g) => g.fit.nSeeds ?? 0));
  // The caption says what is drawn: reference lines only where there are some, medians where the
  // seeds are aggregated (scalingChart's seedsShown, default 5).
  const note = [
    seeds > 5
      ? 'Points: the median across seeds at each width, band: 25–75% of seeds (data); the per-seed points show with the checkbox under the figure.'
      : 'Points: one per seed and width (data).',
    'Solid lines: least-squares fits of log y on log n (data).',
    ...(drawsReferences
      ? ["Dashed grey lines: reference slopes, named in the legend below the panels for what each is (a theorem's bound, a finite-width expectation, or the paper's data), placed through the data's centre (not fits to this data); a line's tooltip gives its slope in that panel."]
      : []),
    'Intervals: 95% t-intervals over the per-seed slopes.',
  ].join(' ');
  return {
    id: f.id, title: f.title, caption: f.caption.replace(DATA_NOTE, note), ...(f.paperFigure ? { paperFigure: f.paperFigure } : {}),
    spec: scalingChart({
      rows, x: 'width', y: f.y, seed: 'seed', panelBy: f.panelBy, fits: fitLines(f.groups), references: references(f.groups), xTitle: 'width n', yTitle: f.yTitle, columns: 3,
      // The measured rounding floor of y, where the rows carry it (stages/fit/groups.ts reads the same column).
      ...(rows.some((r) => typeof r[`${f.y}Floor`] === 'number') ? { floor: `${f.y}Floor` } : {}),
    }),
    data: rows,
  };
}
