// The verdict rule of the report's claim table: one pure function, so the rule the report prints
// (VERDICT_RULE) is the rule that ran.
/** How a measured slope compares with the paper and the theory (the rule is stated in the report). */
export type Verdict = 'consistent with the bound' | 'above the bound' | 'steeper than the paper' | 'flatter than the paper' | 'inconclusive' | 'not comparable' | 'contradicts the prediction';

/** One row of the report's verdict table: one claim of the paper, measured here. */
export interface Claim {
  /** Short name, e.g. 'Figure 4, α = -0.5'. */
  claim: string;
  /** The paper's value (its measured slope, or its statement), null where it gives none. */
  paper: string | null;
  /** The theorem's bound or expectation, labelled (e.g. 'bound: slope ≤ 0'). */
  bound: string | null;
  /** The paper's measured slope as a number, where it gives one (the slope chart draws it). */
  paperSlope: number | null;
  /** The upper bound on the slope that the verdict tested, as a number; null where there is none. */
  boundSlope: number | null;
  /** The fitted groups the claim rests on (ids in the fits artifact). */
  groups: string[];
  /** Measured slope(s): the range over the groups, each with its interval. */
  measured: { slope: number | null; lo: number | null; hi: number | null }[];
  /** Widths fitted here, and the paper's (e.g. '2048–19484', claims.ts widthText), so nobody compares them silently. */
  widths: { here: [number, number] | null; paper: string | null };
  verdict: Verdict;
  /** Why this verdict, in a few words (the rule that fired). */
  why: string;
}

/** Above this interval width (slope units) a slope is too uncertain to judge. */
export const MAX_CI_WIDTH = 1;
/** Below this R^2 the power law itself is in doubt. */
export const MIN_R2 = 0.5;
/** Slack on the bound: an interval ending at most this far above it still counts as within. */
export const BOUND_TOLERANCE = 0.05;

export const VERDICT_RULE =
  `Verdict per fitted group, first rule that applies: "not comparable" if the widths fitted here do not overlap the paper's; ` +
  `"inconclusive" if there is no 95% t-interval, it is wider than ${MAX_CI_WIDTH} or R² < ${MIN_R2}; ` +
  `"steeper/flatter than the paper" if the interval excludes the paper's measured slope; ` +
  `"consistent with the bound" if the interval's upper end is at most the bound + ${BOUND_TOLERANCE}; ` +
  `"above the bound" if its lower end exceeds the bound + ${BOUND_TOLERANCE}; otherwise "inconclusive". ` +
  `Points within 10× of the rounding floor measured on their run are left out of the fits, and a claim says how many. ` +
  `A claim over several groups takes the least favourable group verdict (order: not comparable, above the bound, inconclusive, steeper/flatter, consistent) and says how many groups gave each.`;

export interface VerdictInput {
  slope: number | null;
  /** The 95% t-interval. */
  lo: number | null;
  hi: number | null;
  r2: number | null;
  /** Widths fitted here, and the paper's range (null: the paper gives none, or the same sweep). */
  widths: [number, number] | null;
  paperWidths: [number, number] | null;
  /** Upper bound on the slope (theorem); null where none applies. */
  bound: number | null;
  /** The paper's measured slope; null where it reports none. */
  paper: number | null;
}

export interface VerdictResult {
  verdict: Verdict;
  why: string;
}

const f2 = (v: number): string => (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(2);

/** The rule stated in VERDICT_RULE, for one fitted group. */
export function verdict(v: VerdictInput): VerdictResult {
  if (v.widths && v.paperWidths && (v.widths[1] < v.paperWidths[0] || v.widths[0] > v.paperWidths[1]))
    return { verdict: 'not comparable', why: `widths ${v.widths[0]}–${v.widths[1]} do not overlap the paper's ${v.paperWidths[0]}–${v.paperWidths[1]}` };
  if (v.slope === null || v.lo === null || v.hi === null) return { verdict: 'inconclusive', why: 'no interval (too few seeds or widths)' };
  const ci = `[${f2(v.lo)}, ${f2(v.hi)}]`;
  if (v.hi - v.lo > MAX_CI_WIDTH) return { verdict: 'inconclusive', why: `interval ${ci} wider than ${MAX_CI_WIDTH}` };
  if (v.r2 === null || v.r2 < MIN_R2) return { verdict: 'inconclusive', why: `R² ${v.r2 === null ? '—' : v.r2.toFixed(2)} < ${MIN_R2}` };
  const boundNote = v.bound === null ? '' : v.hi <= v.bound + BOUND_TOLERANCE ? `; within the bound ≤ ${f2(v.bound)}` : `; bound ≤ ${f2(v.bound)} not met by the whole interval`;
  if (v.paper !== null && v.hi < v.paper) return { verdict: 'steeper than the paper', why: `interval ${ci} below the paper's ${f2(v.paper)}${boundNote}` };
  if (v.paper !== null && v.lo > v.paper) return { verdict: 'flatter than the paper', why: `interval ${ci} above the paper's ${f2(v.paper)}${boundNote}` };
  if (v.bound !== null && v.hi <= v.bound + BOUND_TOLERANCE) return { verdict: 'consistent with the bound', why: `interval ${ci} ≤ bound ${f2(v.bound)}` };
  if (v.bound !== null && v.lo > v.bound + BOUND_TOLERANCE) return { verdict: 'above the bound', why: `interval ${ci} entirely above the bound ${f2(v.bound)}` };
  return { verdict: 'inconclusive', why: v.bound === null ? `interval ${ci}: no bound or paper slope to compare with` : `interval ${ci} straddles the bound ${f2(v.bound)}` };
}

/** Least favourable first: the order a multi-group claim's verdict is taken in. */
export const VERDICT_ORDER: Verdict[] = ['not comparable', 'contradicts the prediction', 'above the bound', 'inconclusive', 'steeper than the paper', 'flatter than the paper', 'consistent with the bound'];

/** A claim over several groups: the least favourable group verdict, with the counts of each. */
export function combineVerdicts(results: VerdictResult[]): VerdictResult {
  if (!results.length) return { verdict: 'inconclusive', why: 'no fitted groups' };
  if (results.length === 1) return results[0];
  const counts = new Map<Verdict, number>();
  for (const r of results) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  const worst = VERDICT_ORDER.find((v) => counts.has(v))!;
  const tally = VERDICT_ORDER.filter((v) => counts.has(v)).map((v) => `${counts.get(v)} ${v}`).join(', ');
  const first = results.find((r) => r.verdict === worst)!;
  return { verdict: worst, why: `${results.length} groups: ${tally} (e.g. ${first.why})` };
}
