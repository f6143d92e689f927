// Power-law fits: ordinary least squares of log y on log x over every (seed, width) point.
// The primary 95% interval is the t-interval over per-seed slopes (docs/science.md, "Intervals": a
// percentile bootstrap over 3-5 seeds undercovers); the seed bootstrap is kept as a secondary
// interval. Seeds are the unit because a seed's points share an init (and, in A.1, a sample draw).
//
// Plain library: no dependency on the pipeline engine. Every result is JSON-serializable
// (undefined quantities are `null`, never NaN or Infinity), so a stage can store it as is.
// Logs are natural logs: the fitted law is y = exp(intercept) * x^slope.
import { mulberry32 } from '../model/prng.ts';
import { studentTQuantile } from './t-quantile.ts';
import type { ExclusionReason, ExclusionSummary, LocalSlopes, PowerLawFit, SeedSlope, SlopeCI, SlopeInterval } from '../contracts/fits.ts';
export type { ExclusionReason, ExclusionSummary, LocalSlopes, PowerLawFit, SeedSlope, SlopeCI, SlopeInterval } from '../contracts/fits.ts';

/** One measurement: `x` is the width, `y` the measured value, `seed` the run's seed. */
export interface FitPoint {
  x: number;
  y: number;
  seed: number | string;
  /**
   * Optional run status. Anything other than undefined/'ok' (e.g. 'diverged', 'failed')
   * excludes the point and is counted under that status in `excluded.byReason`.
   */
  status?: string;
  /**
   * Optional rounding floor of `y` measured on the same run (train-result's *Floor fields): a
   * point with y < FLOOR_MARGIN * floor is rounding noise, not signal, and is excluded as 'nearFloor'.
   */
  floor?: number | null;
}

/** A point within this factor of its measured rounding floor is left out of the fit. */
export const FLOOR_MARGIN = 10;


export interface OlsResult {
  slope: number;
  intercept: number;
  /** Coefficient of determination; 1 for an exact fit (also when y is constant). */
  r2: number;
  n: number;
}


export interface BootstrapOptions {
  /** Number of bootstrap resamples (e.g. 2000). */
  resamples: number;
  /** PRNG seed: the same seed and data give the same CI. */
  seed: number | string;
  /** Confidence level, default 0.95. */
  level?: number;
  /**
   * Minimum fraction of resamples that must have a defined slope for the CI to be reported
   * (default 0.5). Degenerate resamples are skipped, so the CI is conditional on a defined slope.
   */
  minValidFraction?: number;
}

// ---------------------------------------------------------------------------------------------
// Exclusions

/** y within FLOOR_MARGIN of the point's measured rounding floor (false where none is known). */
export function nearFloor(p: { y: number; floor?: number | null }): boolean {
  return typeof p.floor === 'number' && Number.isFinite(p.floor) && p.y < FLOOR_MARGIN * p.floor;
}

/** Split points into those a log-log fit can use and a count of the rest, by reason. */
export function partitionPoints<P extends FitPoint>(
  points: readonly P[],
): { kept: P[]; excluded: ExclusionSummary } {
  const kept: P[] = [];
  const byReason: Partial<Record<ExclusionReason, number>> = {};
  const bump = (r: ExclusionReason) => {
    byReason[r] = (byReason[r] ?? 0) + 1;
  };
  for (const p of points) {
    if (p.status !== undefined && p.status !== 'ok') bump(`status:${p.status}`);
    else if (!Number.isFinite(p.x) || p.x <= 0) bump('invalidX');
    else if (!Number.isFinite(p.y)) bump('nonFiniteY');
    else if (p.y <= 0) bump('nonPositiveY');
    else if (nearFloor(p)) bump('nearFloor');
    else kept.push(p);
  }
  return {
    kept,
    excluded: { total: points.length, kept: kept.length, excluded: points.length - kept.length, byReason },
  };
}

// ---------------------------------------------------------------------------------------------
// OLS

/**
 * Ordinary least squares y = intercept + slope * x (two-pass, centred). Returns null when there
 * are fewer than 2 points or all x are equal (slope undefined).
 */
export function ols(xs: readonly number[], ys: readonly number[]): OlsResult | null {
  const n = xs.length;
  if (n !== ys.length) throw new Error(`ols: ${n} x values but ${ys.length} y values`);
  if (n < 2) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    const dy = ys[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (!(sxx > 0)) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssRes = 0;
  for (let i = 0; i < n; i++) {
    const r = ys[i] - (intercept + slope * xs[i]);
    ssRes += r * r;
  }
  // Relative tolerance: an exact power law leaves only rounding error in ssRes.
  const r2 = ssRes <= 1e-24 * Math.max(1, syy) ? 1 : syy > 0 ? 1 - ssRes / syy : 0;
  return { slope, intercept, r2, n };
}

/** OLS of ln y on ln x. Points must already be valid (x > 0, y > 0, finite). */
export function olsLogLog(points: readonly { x: number; y: number }[]): OlsResult | null {
  return ols(
    points.map((p) => Math.log(p.x)),
    points.map((p) => Math.log(p.y)),
  );
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

/** Per-seed sufficient statistics of (ln x, ln y), shifted by global means for accuracy. */
interface SeedStats {
  n: number;
  sx: number;
  sy: number;
  sxx: number;
  sxy: number;
  /** Distinct widths of this seed (for the degeneracy test). */
  xs: Set<number>;
}

/** Linear-interpolation quantile (R type 7) of sorted values. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantileSorted: empty input');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Percentile bootstrap CI of the log-log slope, resampling seeds with replacement: each
 * resample draws `nSeeds` seeds (with replacement) and pools all their points. Resamples whose
 * slope is undefined (one distinct width) are skipped and counted as `degenerate`.
 * Points must already be valid (see `partitionPoints`). Returns the CI or a reason it is null.
 */
export function bootstrapSlopeCI(
  points: readonly FitPoint[],
  opts: BootstrapOptions,
): { ci: SlopeCI | null; note: string | null } {
  const level = opts.level ?? 0.95;
  const minValid = opts.minValidFraction ?? 0.5;
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap: level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(opts.resamples) || opts.resamples < 1)
    throw new Error(`bootstrap: resamples must be a positive integer, got ${opts.resamples}`);

  const bySeed = new Map<string, FitPoint[]>();
  for (const p of points) {
    const k = `${typeof p.seed}:${p.seed}`;
    let arr = bySeed.get(k);
    if (!arr) bySeed.set(k, (arr = []));
    arr.push(p);
  }
  // Deterministic seed order independent of input order.
  const keys = [...bySeed.keys()].sort();
  if (keys.length < 2) {
    return { ci: null, note: `bootstrap over seeds needs at least 2 seeds, got ${keys.length}` };
  }
  let mx = 0;
  let my = 0;
  for (const p of points) {
    mx += Math.log(p.x);
    my += Math.log(p.y);
  }
  mx /= points.length;
  my /= points.length;
  const stats: SeedStats[] = keys.map((k) => {
    const s: SeedStats = { n: 0, sx: 0, sy: 0, sxx: 0, sxy: 0, xs: new Set() };
    for (const p of bySeed.get(k)!) {
      const lx = Math.log(p.x) - mx;
      const ly = Math.log(p.y) - my;
      s.n++;
      s.sx += lx;
      s.sy += ly;
      s.sxx += lx * lx;
      s.sxy += lx * ly;
      s.xs.add(p.x);
    }
    return s;
  });

  const rng = mulberry32(opts.seed);
  const k = stats.length;
  const slopes: number[] = [];
  let degenerate = 0;
  const picks = new Array<number>(k);
  for (let b = 0; b < opts.resamples; b++) {
    let n = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    for (let j = 0; j < k; j++) {
      const i = Math.floor(rng() * k);
      picks[j] = i;
      const s = stats[i];
      n += s.n;
      sx += s.sx;
      sy += s.sy;
      sxx += s.sxx;
      sxy += s.sxy;
    }
    // Degenerate: fewer than two distinct widths across the drawn seeds.
    let first: number | undefined;
    let distinct = false;
    for (let j = 0; j < k && !distinct; j++) {
      for (const x of stats[picks[j]].xs) {
        if (first === undefined) first = x;
        else if (x !== first) {
          distinct = true;
          break;
        }
      }
    }
    const den = sxx - (sx * sx) / n;
    if (!distinct || !(den > 0)) {
      degenerate++;
      continue;
    }
    slopes.push((sxy - (sx * sy) / n) / den);
  }
  const used = slopes.length;
  if (used < Math.max(2, minValid * opts.resamples)) {
    return {
      ci: null,
      note: `only ${used} of ${opts.resamples} bootstrap resamples had two or more distinct widths`,
    };
  }
  slopes.sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  const ci: SlopeCI = {
    level,
    lo: quantileSorted(slopes, alpha),
    hi: quantileSorted(slopes, 1 - alpha),
    resamples: opts.resamples,
    used,
    degenerate,
    seed: opts.seed,
    method: 'percentile, seeds resampled with replacement',
  };
  const note =
    degenerate > 0
      ? `${degenerate} of ${opts.resamples} resamples had a single distinct width and were skipped`
      : keys.length < 5
        ? `only ${keys.length} seeds: the bootstrap CI is coarse`
        : null;
  return { ci, note };
}

// ---------------------------------------------------------------------------------------------
// t-interval over per-seed slopes

const seedKey = (s: number | string): string => `${typeof s}:${s}`;

/** Each seed's own log-log OLS slope; seeds with fewer than two distinct widths are left out. */
export function perSeedSlopes(points: readonly FitPoint[]): SeedSlope[] {
  const bySeed = new Map<string, FitPoint[]>();
  for (const p of points) {
    const k = seedKey(p.seed);
    let arr = bySeed.get(k);
    if (!arr) bySeed.set(k, (arr = []));
    arr.push(p);
  }
  const out: SeedSlope[] = [];
  for (const k of [...bySeed.keys()].sort()) {
    const pts = bySeed.get(k)!;
    const f = olsLogLog(pts);
    if (f) out.push({ seed: pts[0].seed, slope: f.slope, nWidths: new Set(pts.map((p) => p.x)).size });
  }
  return out;
}

/** `mean +- t_{k-1} sd / sqrt(k)` over per-seed slopes; null with a reason for k < 2. */
export function tInterval(slopes: readonly number[], level = 0.95): { ci: SlopeInterval | null; note: string | null } {
  if (!(level > 0 && level < 1)) throw new Error(`tInterval: level must be in (0, 1), got ${level}`);
  const k = slopes.length;
  if (k < 2) return { ci: null, note: `the t-interval over per-seed slopes needs at least 2 seeds with two or more widths, got ${k}` };
  const mean = slopes.reduce((a, b) => a + b, 0) / k;
  const sd = Math.sqrt(slopes.reduce((a, b) => a + (b - mean) ** 2, 0) / (k - 1));
  const t = studentTQuantile((1 + level) / 2, k - 1);
  const half = (t * sd) / Math.sqrt(k);
  return { ci: { level, lo: mean - half, hi: mean + half, mean, sd, seeds: k, t, method: 't over per-seed slopes' }, note: null };
}

/**
 * Local slopes: d ln y / d ln x between neighbouring widths, on the mean of ln y over the seeds at
 * each width. The first and last show whether the fitted range is one power law (they agree) or
 * still bending (docs/science.md, "Verdicts": pre-asymptotic).
 */
export function localSlopes(points: readonly FitPoint[]): LocalSlopes {
  const byX = new Map<number, number[]>();
  for (const p of points) byX.set(p.x, [...(byX.get(p.x) ?? []), Math.log(p.y)]);
  const xs = [...byX.keys()].sort((a, b) => a - b);
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const slopes: number[] = [];
  for (let i = 1; i < xs.length; i++) slopes.push((mean(byX.get(xs[i])!) - mean(byX.get(xs[i - 1])!)) / Math.log(xs[i] / xs[i - 1]));
  return { first: slopes[0] ?? null, last: slopes.at(-1) ?? null, all: slopes };
}

// ---------------------------------------------------------------------------------------------
// The fit

/**
 * Fit y = A x^slope to one group's points: drop invalid/diverged points (counted), OLS of
 * ln y on ln x over all remaining (seed, width) points, the t-interval over per-seed slopes
 * (primary) and a seed-bootstrap CI (secondary).
 */
export function fitPowerLaw(points: readonly FitPoint[], opts: BootstrapOptions): PowerLawFit {
  const { kept, excluded } = partitionPoints(points);
  const fit = olsLogLog(kept);
  const widths = new Set(kept.map((p) => p.x));
  const seeds = new Set(kept.map((p) => `${typeof p.seed}:${p.seed}`));
  let ci: SlopeInterval | null = null;
  let bootstrap: SlopeCI | null = null;
  let ciNote: string | null = null;
  const perSeed = fit === null ? [] : perSeedSlopes(kept);
  if (fit === null) {
    ciNote =
      kept.length < 2
        ? `fewer than 2 valid points (${kept.length})`
        : 'a single distinct width: slope undefined';
  } else {
    ({ ci, note: ciNote } = tInterval(perSeed.map((s) => s.slope), opts.level));
    bootstrap = bootstrapSlopeCI(kept, opts).ci;
    const dropped = seeds.size - perSeed.length;
    if (ci && dropped > 0) ciNote = `${dropped} seed(s) with a single width left out of the t-interval`;
    else if (ci && perSeed.some((s) => s.nWidths !== widths.size)) ciNote = 'unbalanced: not every seed has every width, so the interval centre differs from the pooled slope';
  }
  const xsKept = kept.map((p) => p.x);
  return {
    slope: fit?.slope ?? null,
    intercept: fit?.intercept ?? null,
    r2: fit?.r2 ?? null,
    nPoints: kept.length,
    nSeeds: seeds.size,
    nWidths: widths.size,
    xMin: xsKept.length ? Math.min(...xsKept) : null,
    xMax: xsKept.length ? Math.max(...xsKept) : null,
    perSeed,
    ci,
    ciNote,
    bootstrap,
    excluded,
    local: localSlopes(kept),
  };
}

// ---------------------------------------------------------------------------------------------
// Grouping

/** Values a group key may take (what JSON rows carry). */
export type KeyValue = string | number | boolean | null;

export interface Group<R> {
  /** The key fields' values for this group, e.g. { dataset: 'mnist', depth: 2 }. */
  key: Record<string, KeyValue>;
  /** A readable, stable id such as `dataset=mnist,depth=2`. */
  id: string;
  rows: R[];
}

/**
 * Group rows by the values of `keys` (in the given field order). Groups come out in order of
 * first appearance; rows keep their input order. A missing field groups as null. Throws when a
 * key field holds an object or array (not a usable group key).
 */
export function groupBy<R extends object>(rows: readonly R[], keys: readonly (keyof R & string)[]): Group<R>[] {
  const groups = new Map<string, Group<R>>();
  for (const row of rows) {
    const key: Record<string, KeyValue> = {};
    for (const k of keys) {
      const v: unknown = row[k];
      if (v === undefined || v === null) key[k] = null;
      else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') key[k] = v;
      else throw new Error(`groupBy: field '${k}' is not a scalar (${typeof v})`);
    }
    // JSON of the typed values keeps 1 and '1' apart; the readable id is separate.
    const sig = JSON.stringify(keys.map((k) => key[k]));
    let g = groups.get(sig);
    if (!g) {
      g = { key, id: keys.map((k) => `${k}=${String(key[k])}`).join(','), rows: [] };
      groups.set(sig, g);
    }
    g.rows.push(row);
  }
  return [...groups.values()];
}

/** One group's fit, with its key fields. */
export interface GroupFit {
  key: Record<string, KeyValue>;
  id: string;
  fit: PowerLawFit;
}

/**
 * Group rows by `keys` and fit each group. `toPoint` maps a row to its fit point (default: the
 * row itself, when rows already have x/y/seed fields). Each group's bootstrap gets its own PRNG
 * stream derived from `opts.seed` and the group id, so adding a group never changes another's CI.
 */
export function fitGroups<R extends object>(
  rows: readonly R[],
  keys: readonly (keyof R & string)[],
  opts: BootstrapOptions,
  toPoint?: (row: R) => FitPoint,
  widest?: number,
): GroupFit[] {
  const map = toPoint ?? ((r: R) => r as unknown as FitPoint);
  return groupBy(rows, keys).map((g) => ({
    key: g.key,
    id: g.id,
    fit: fitPowerLaw(widestOnly(g.rows.map(map), widest), { ...opts, seed: `${opts.seed}/${g.id}` }),
  }));
}

/**
 * The points at a group's `n` widest distinct widths (all of them when n is absent or the group
 * has no more): a fit of the asymptotic end, where the smallest widths still bend the curve.
 */
export function widestOnly(points: readonly FitPoint[], n?: number): FitPoint[] {
  if (n === undefined) return [...points];
  if (!Number.isInteger(n) || n < 2) throw new Error(`widestOnly: n must be an integer >= 2 (got ${n})`);
  const widths = [...new Set(points.map((p) => p.x))].sort((a, b) => b - a);
  if (widths.length <= n) return [...points];
  const from = widths[n - 1]!;
  return points.filter((p) => p.x >= from);
}
