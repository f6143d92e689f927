// The verdict rules of the report's claim table: pure functions, so the rules the report prints
// (VERDICT_RULE) are the rules that ran. docs/science.md, "Verdicts", states them with their premises.
//
// Two questions per claim, judged apart:
//  - against the theorem's bound (slope <= b): a one-sided t-test per fitted group, only where the
//    theorem's premises hold; the claim holds when every judged group's upper 95% limit is below
//    the bound (an intersection-union test, level 5% without correction), and is violated when a
//    group's lower limit is above it after Holm's correction across the claim's groups;
//  - against the paper's measured slope (Figure 4 only): two-sided, Holm across groups, and only
//    where the fitted widths overlap the paper's (otherwise "not comparable").
// A group whose local slopes (between neighbouring widths) move by more than its interval's width
// is "pre-asymptotic": its fitted slope describes no single power law, so it is not judged.
import { studentTCdf, studentTQuantile } from './t-quantile.ts';

/** The verdict words (docs/science.md, "Verdicts"). */
export type Verdict =
  // against a theorem's bound
  | 'holds' | 'violated' | 'inconclusive' | 'pre-asymptotic' | 'out of scope'
  // against the paper's measured slope
  | 'agrees with the paper' | 'steeper than the paper' | 'flatter than the paper' | 'not comparable'
  // rows that test no bound: a direction reported in words, a negative control
  | 'exploratory' | 'contradicts the prediction';

/** What a claim rests on in the paper: a theorem, a heuristic of the paper, our own reconstruction, a discussion. */
export type ClaimKind = 'theorem' | 'heuristic' | 'ours' | 'exploratory' | 'control';

export interface Judgment {
  verdict: Verdict;
  /** One line: the rule that fired, with the numbers it fired on. */
  why: string;
}

/** One row of the report's verdict table: one claim of the paper, measured here. */
export interface Claim {
  /** Short name, e.g. 'Figure 4, α = -0.5'. */
  claim: string;
  /** Where the paper states it (theorem, equation, figure or section). */
  source: string;
  kind: ClaimKind;
  /** The paper's value (its measured slope, or its statement), null where it gives none. */
  paper: string | null;
  /** The bound or expectation tested, labelled (e.g. 'bound: slope ≤ −1/2'). */
  bound: string | null;
  /** The paper's measured slope as a number, where it gives one (the slope chart draws it). */
  paperSlope: number | null;
  /** The upper bound on the slope that the verdict tested, as a number; null where there is none. */
  boundSlope: number | null;
  /** The fitted groups the claim rests on (ids in the fits artifact). */
  groups: string[];
  /** Measured slope(s): each group's slope with its two-sided 95% t-interval. */
  measured: { slope: number | null; lo: number | null; hi: number | null }[];
  /** Widths fitted here, and the paper's (e.g. '2048–19484'), so nobody compares them silently. */
  widths: { here: [number, number] | null; paper: string | null };
  /** The judgment against the bound (or the row's single verdict). */
  verdict: Verdict;
  why: string;
  /** The judgment against the paper's measured slope; null where the paper reports none. */
  paperVerdict: Judgment | null;
  /** The regime the verdict was reached in: training status, points at the float32 floor. */
  regime: string | null;
}

/** One fitted group as the rules see it. */
export interface GroupSlope {
  id: string;
  /** Mean of the per-seed slopes, their sample sd and count (the t-interval's parts). */
  mean: number | null;
  sd: number | null;
  k: number;
  /** The two-sided 95% t-interval. */
  lo: number | null;
  hi: number | null;
  /** Local slopes at the smallest and largest widths. */
  localFirst: number | null;
  localLast: number | null;
  widths: [number, number] | null;
  /** The paper's measured slope for this group, where it reports one. */
  paper: number | null;
}

/** Whether a theorem's premises hold for a group; `why` names the premise when they do not. */
export interface Scope {
  inScope: boolean;
  /** Inside the proof's reach but outside the stated premise: judged, and said. */
  edge?: string;
  why?: string;
}

export const LEVEL = 0.95;
const ALPHA = 1 - LEVEL;

const f2 = (v: number): string => (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(2);
const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/** One-sided limits and p-values of a group's slope against a bound b (t over per-seed slopes, k − 1 df). */
export function oneSided(g: GroupSlope, bound: number): { upper: number; lower: number; pAbove: number; pBelow: number } | null {
  if (g.mean === null || g.sd === null || g.k < 2) return null;
  const se = g.sd / Math.sqrt(g.k);
  const t = studentTQuantile(LEVEL, g.k - 1);
  if (se === 0) return { upper: g.mean, lower: g.mean, pAbove: g.mean > bound ? 0 : 1, pBelow: g.mean < bound ? 0 : 1 };
  const stat = (g.mean - bound) / se;
  // pAbove: evidence that the slope exceeds the bound (H0: slope <= b); pBelow: that it is below it.
  return { upper: g.mean + t * se, lower: g.mean - t * se, pAbove: 1 - studentTCdf(stat, g.k - 1), pBelow: studentTCdf(stat, g.k - 1) };
}

/** Two-sided p-value of a group's slope against a value. */
export function twoSidedP(g: GroupSlope, value: number): number | null {
  if (g.mean === null || g.sd === null || g.k < 2) return null;
  const se = g.sd / Math.sqrt(g.k);
  if (se === 0) return g.mean === value ? 1 : 0;
  return 2 * (1 - studentTCdf(Math.abs((g.mean - value) / se), g.k - 1));
}

/** Holm's step-down procedure: which of the p-values are rejected at family-wise level alpha. */
export function holm(p: readonly number[], alpha = ALPHA): boolean[] {
  const order = p.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const reject = p.map(() => false);
  for (let r = 0; r < order.length; r++) {
    if (order[r]![0] > alpha / (order.length - r)) break;
    reject[order[r]![1]] = true;
  }
  return reject;
}

/** Local slopes that move by more than the interval's width: no single power law over the range. */
export function preAsymptotic(g: GroupSlope): boolean {
  if (g.localFirst === null || g.localLast === null || g.lo === null || g.hi === null) return false;
  return Math.abs(g.localLast - g.localFirst) > g.hi - g.lo;
}

const curveText = (g: GroupSlope): string => `local slopes ${f2(g.localFirst ?? 0)} → ${f2(g.localLast ?? 0)}`;

/**
 * A claim's judgment against a bound (slope <= bound) over its groups. Groups outside the theorem's
 * scope and pre-asymptotic groups are left out and counted; the rest are judged as one family.
 */
export function judgeBound(groups: readonly GroupSlope[], bound: number, scope: (g: GroupSlope) => Scope = () => ({ inScope: true })): Judgment {
  if (!groups.length) return { verdict: 'inconclusive', why: 'no fitted groups' };
  const scoped = groups.map((g) => ({ g, s: scope(g) }));
  const outside = scoped.filter((x) => !x.s.inScope);
  if (outside.length === groups.length) return { verdict: 'out of scope', why: outside[0]!.s.why ?? 'the theorem\'s premises do not hold here' };
  const inside = scoped.filter((x) => x.s.inScope).map((x) => x.g);
  const bent = inside.filter(preAsymptotic);
  const judged = inside.filter((g) => !preAsymptotic(g));
  const outsideText = outside.length ? `${outside.length} out of scope (${outside[0]!.s.why ?? 'premise fails'})` : '';
  const bentText = bent.length ? `${bent.length} pre-asymptotic (${bent[0]!.id}: ${curveText(bent[0]!)})` : '';
  const tail = [outsideText, bentText].filter(Boolean).map((t) => `; ${t}`).join('');
  const edge = scoped.find((x) => x.s.inScope && x.s.edge)?.s.edge;
  const edgeText = edge ? `; ${edge}` : '';
  if (!judged.length) return { verdict: 'pre-asymptotic', why: `every judged group bends: ${curveText(bent[0]!)}, more than its interval${outsideText ? `; ${outsideText}` : ''}` };
  const tests = judged.map((g) => ({ g, t: oneSided(g, bound) }));
  const untestable = tests.filter((x) => x.t === null);
  if (untestable.length) return { verdict: 'inconclusive', why: `${untestable.length} of ${judged.length} group(s) have no interval (fewer than 2 seeds with 2 widths)${tail}` };
  const ok = tests.map((x) => x.t!);
  const above = holm(ok.map((t) => t.pAbove));
  const nAbove = above.filter(Boolean).length;
  const nBelow = ok.filter((t) => t.upper <= bound).length;
  const n = judged.length;
  if (nAbove) {
    const i = above.indexOf(true);
    return { verdict: 'violated', why: `${nAbove} of ${n} above ${f2(bound)} after Holm (${judged[i]!.id}: lower limit ${f2(ok[i]!.lower)})${tail}${edgeText}` };
  }
  if (nBelow === n) {
    const worst = Math.max(...ok.map((t) => t.upper));
    const limits = n === 1 ? `the upper 95% limit ${f2(worst)} is ≤ ${f2(bound)}` : `all ${n} upper 95% limits are ≤ ${f2(bound)} (largest ${f2(worst)})`;
    return { verdict: 'holds', why: `${limits}${tail}${edgeText}` };
  }
  const i = ok.findIndex((t) => t.upper > bound);
  return { verdict: 'inconclusive', why: `${nBelow} of ${n} below ${f2(bound)}, none above after Holm (${judged[i]!.id}: upper limit ${f2(ok[i]!.upper)})${tail}${edgeText}` };
}

/**
 * A claim's judgment against the paper's measured slopes: two-sided, Holm across the groups, only
 * where the fitted widths overlap the paper's. Null when no group has a paper slope.
 */
export function judgePaper(groups: readonly GroupSlope[], paperWidths: [number, number] | null): Judgment | null {
  const withPaper = groups.filter((g) => g.paper !== null);
  if (!withPaper.length) return null;
  const here = withPaper.map((g) => g.widths).filter((w): w is [number, number] => w !== null);
  if (paperWidths && here.length && here.every((w) => w[1] < paperWidths[0] || w[0] > paperWidths[1])) {
    const lo = Math.min(...here.map((w) => w[0]));
    const hi = Math.max(...here.map((w) => w[1]));
    return { verdict: 'not comparable', why: `widths ${lo}–${hi} here, ${paperWidths[0]}–${paperWidths[1]} in the paper: another regime` };
  }
  const p = withPaper.map((g) => twoSidedP(g, g.paper!));
  if (p.some((v) => v === null)) return { verdict: 'inconclusive', why: 'a group has no interval (fewer than 2 seeds with 2 widths)' };
  const reject = holm(p.map((v) => v!));
  const off = withPaper.filter((_, i) => reject[i]);
  if (!off.length) return { verdict: 'agrees with the paper', why: `no group differs from the paper's slope after Holm (${withPaper.length} tested)` };
  const steeper = off.filter((g) => g.mean! < g.paper!).length;
  const g = off[0]!;
  return {
    verdict: steeper >= off.length - steeper ? 'steeper than the paper' : 'flatter than the paper',
    why: `${off.length} of ${withPaper.length} differ after Holm (${g.id}: ${f2(g.mean!)} against the paper's ${f2(g.paper!)})`,
  };
}

/** Least favourable first: how per-part verdicts combine where a claim reports one word. */
export const VERDICT_ORDER: Verdict[] = [
  'violated', 'contradicts the prediction', 'not comparable', 'out of scope', 'pre-asymptotic', 'inconclusive',
  'steeper than the paper', 'flatter than the paper', 'exploratory', 'agrees with the paper', 'holds',
];

export const VERDICT_RULE =
  `Each claim is judged against its bound and, for Figure 4, against the paper's measured slope, apart. ` +
  `Bound (slope ≤ b): only groups where the theorem's premises hold ("out of scope" otherwise, naming the premise); ` +
  `a group whose local slopes (between neighbouring widths) move by more than its interval's width is "pre-asymptotic" and not judged; ` +
  `"holds" if every judged group's upper one-sided 95% t-limit (k − 1 degrees of freedom over k seeds) is ≤ b (an intersection-union test, no correction needed); ` +
  `"violated" if a group's lower limit is above b after Holm's correction across the claim's groups; otherwise "inconclusive". ` +
  `Paper (Figure 4): two-sided t-test of each group against the paper's slope with Holm's correction, only where the fitted widths overlap the paper's ("not comparable" otherwise): "agrees with the paper", or "steeper/flatter than the paper". ` +
  `Points within 10× of their measured float32 floor are left out of every fit. Heuristic and reconstructed lines are labelled as such; exploratory rows state a direction, not a verdict.`;
