// Small helpers the new-measurement protocols (meanfield, ntk-inferiority, corollary) share to
// turn fitted groups into verdict-table claims.
import type { FitGroupResult } from '../contracts/fits.ts';
import { signed as num } from '../page/charts/index.ts';

/** Numbers as the report prints them ("−0.25"). */
export { num };

/** The slope interval of a group: its CI, or null when the fit has none (too few seeds). */
export const interval = (g: FitGroupResult): [number, number] | null =>
  g.fit.ci && g.fit.slope !== null ? [g.fit.ci.lo, g.fit.ci.hi] : null;


/** "−0.12 [−0.30, 0.05]" */
export function slopeText(g: FitGroupResult): string {
  const s = g.fit.slope;
  const i = interval(g);
  return s === null ? 'no fit' : `${num(s)}${i ? ` [${num(i[0])}, ${num(i[1])}]` : ''}`;
}

/** Groups whose key matches every entry of `where`. */
export const where = (groups: FitGroupResult[], w: Record<string, unknown>): FitGroupResult[] =>
  groups.filter((g) => Object.entries(w).every(([k, v]) => g.key[k] === v));
