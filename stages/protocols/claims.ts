// Building a verdict-table row (protocol.ts Claim) from fitted groups: the measured range with
// each group's t-interval, the widths fitted next to the paper's, and the rule's verdict
// (stats/verdict.ts).
import type { FitGroupResult, Row } from '../contracts/fits.ts';
import { judgeBound, judgePaper, type ClaimKind, type GroupSlope, type Scope } from '../stats/verdict.ts';
import type { Claim } from './protocol.ts';

/** Widths the paper fitted on. */
export const PAPER_WIDTHS = { fig4: [2048, 19484], a1: [8, 1024] } as const satisfies Record<string, readonly [number, number]>;

export const widthText = (w: readonly [number, number] | null): string => (w ? `${w[0]}–${w[1]}` : '—');

/** The width range fitted over a set of groups. */
export function fittedWidths(groups: readonly FitGroupResult[]): [number, number] | null {
  const lo = groups.map((g) => g.fit.xMin).filter((x): x is number => x !== null);
  const hi = groups.map((g) => g.fit.xMax).filter((x): x is number => x !== null);
  return lo.length && hi.length ? [Math.min(...lo), Math.max(...hi)] : null;
}

export interface ClaimSpec {
  claim: string;
  /** Where the paper states it: theorem, equation, figure or section. */
  source: string;
  kind: ClaimKind;
  paper: string | null;
  bound: string | null;
  /** The slope bound the verdict tests (the tightest that applies); null: none. */
  boundSlope: number | null;
  paperWidths: readonly [number, number];
  groups: readonly FitGroupResult[];
  /** The slope the paper (or its heuristic) gives per group, where not the fit spec's `paper`. */
  paperOf?: (g: FitGroupResult) => number | null;
  /** Whether the theorem's premises hold for a group (default: everywhere). */
  scope?: (g: FitGroupResult) => Scope;
  /** Anything the verdict leaves out; appended to `why`. */
  note?: string;
  /** The regime: training status and the like (the claim adds the points left at the float32 floor). */
  regime?: string | null;
}

/** A fitted group as the verdict rules see it. */
/** A group's key as the verdicts name it: 'mnist / erf / L2', 'α = −1'. */
export function groupLabel(key: FitGroupResult['key']): string {
  const part = ([k, v]: [string, unknown]): string => (k === 'depth' ? `L${v}` : k === 'alpha' ? `α = ${v}` : k === 'beta' ? `β = ${v}` : k === 'step' ? `s = ${v}` : String(v));
  return Object.entries(key).map(part).join(' / ') || 'all';
}

export function groupSlope(g: FitGroupResult): GroupSlope {
  return {
    id: groupLabel(g.key),
    mean: g.fit.ci?.mean ?? null, sd: g.fit.ci?.sd ?? null, k: g.fit.ci?.seeds ?? g.fit.perSeed.length,
    lo: g.fit.ci?.lo ?? null, hi: g.fit.ci?.hi ?? null,
    localFirst: g.fit.local.first, localLast: g.fit.local.last,
    widths: g.fit.xMin !== null && g.fit.xMax !== null ? [g.fit.xMin, g.fit.xMax] : null,
    paper: g.paper,
  };
}

/** Each group's slope with its t-interval. */
export const measuredOf = (groups: readonly FitGroupResult[]): Claim['measured'] =>
  groups.map((g) => ({ slope: g.fit.slope, lo: g.fit.ci?.lo ?? null, hi: g.fit.ci?.hi ?? null }));

/** The one value a list holds, else null. */
const sharedValue = (values: readonly (number | null)[]): number | null => {
  const set = [...new Set(values)];
  return set.length === 1 ? set[0]! : null;
};

/** The one paper slope its groups share (Figure 4 claims are per α), else null. */
const sharedPaperSlope = (groups: readonly FitGroupResult[]): number | null => sharedValue(groups.map((g) => g.paper));

/**
 * What the fits left out, in words: points within 10x of their measured rounding floor, and
 * diverged or non-finite runs (powerlaw.ts partitionPoints). Empty when nothing was left out.
 */
export function exclusionNote(groups: readonly FitGroupResult[]): string {
  const total = groups.reduce((s, g) => s + g.fit.excluded.total, 0);
  const by = new Map<string, number>();
  for (const g of groups) for (const [k, v] of Object.entries(g.fit.excluded.byReason)) by.set(k, (by.get(k) ?? 0) + (v ?? 0));
  const why = (k: string): string => k === 'nearFloor' ? 'within 10× of the rounding floor measured on their run (float32 noise, not signal)'
    : k.startsWith('status:') ? k.slice(7) : k === 'nonPositiveY' ? 'value ≤ 0' : k === 'nonFiniteY' ? 'value not finite' : 'invalid width';
  const parts = [...by].filter(([, v]) => v > 0).map(([k, v]) => `${v} ${why(k)}`);
  return parts.length ? `${parts.reduce((s, p) => s + Number(p.split(' ')[0]), 0)} of ${total} points excluded from the fit: ${parts.join('; ')}` : '';
}

export function claimFrom(c: ClaimSpec): Claim {
  const paperWidths: [number, number] = [c.paperWidths[0], c.paperWidths[1]];
  const byId = new Map(c.groups.map((g) => [groupLabel(g.key), g]));
  const slopes = c.groups.map((g) => ({ ...groupSlope(g), ...(c.paperOf ? { paper: c.paperOf(g) } : {}) }));
  const bound = c.boundSlope === null ? null
    : judgeBound(slopes, c.boundSlope, c.scope ? (s) => c.scope!(byId.get(s.id)!) : undefined);
  const paper = judgePaper(slopes, paperWidths);
  const main = bound ?? paper ?? { verdict: 'exploratory' as const, why: 'no bound or paper slope to test' };
  const excluded = exclusionNote(c.groups);
  return {
    claim: c.claim, source: c.source, kind: c.kind, paper: c.paper, bound: c.bound,
    paperSlope: c.paperOf ? sharedValue(c.groups.map(c.paperOf)) : sharedPaperSlope(c.groups), boundSlope: c.boundSlope,
    groups: c.groups.map((g) => g.id),
    measured: measuredOf(c.groups),
    widths: { here: fittedWidths(c.groups), paper: widthText(paperWidths) },
    verdict: main.verdict,
    why: [main.why, c.note].filter(Boolean).join('. '),
    paperVerdict: bound ? paper : null,
    regime: [c.regime, excluded].filter(Boolean).join('. ') || null,
  };
}

/**
 * The regime of the runs behind a claim (docs/science.md, "Regime"): training status (test accuracy
 * against chance, the train loss against the best constant predictor's) and the share of the
 * kernel at theta0 from the fan-in-n layers at the smallest and largest width (the part that grows
 * like n in the standard parameterization). A claim about linearization means little where the nets
 * barely train, and a width slope is pre-asymptotic while that share is far from its limit.
 */
export function trainingStatus(rows: readonly Row[], fitted: readonly [number, number] | null = null): string | null {
  // Only the runs at the fitted widths (fit.widest may leave the smallest out): the regime of the fit.
  const inFit = (r: Row): boolean => !fitted || (typeof r.width === 'number' && r.width >= fitted[0] && r.width <= fitted[1]);
  const ok = rows.filter((r) => r.status === 'ok' && inFit(r));
  const nums = (k: string): number[] => ok.map((r) => r[k]).filter((a): a is number => typeof a === 'number' && Number.isFinite(a));
  const pct = (v: number): string => `${Math.round(100 * v)}%`;
  const parts: string[] = [];
  const acc = nums('testAcc');
  if (acc.length) {
    const lo = Math.min(...acc);
    const hi = Math.max(...acc);
    const state = hi < 0.3 ? 'barely trained' : lo < 0.3 ? 'partly trained' : 'trained';
    parts.push(`${state}: test accuracy ${pct(lo)}–${pct(hi)} (chance 10%)`);
  }
  const rel = nums('trainLossVsTrivial');
  if (rel.length) parts.push(`train loss ${Math.min(...rel).toFixed(2)}–${Math.max(...rel).toFixed(2)}× the best constant predictor's`);
  const share = kernelShareRange(ok);
  if (share) parts.push(share);
  return parts.length ? parts.join('; ') : null;
}

/** "fan-in-n share of the kernel 8% (n = 64) → 49% (n = 1024)": the mean over runs at each end of the width range. */
export function kernelShareRange(rows: readonly Row[]): string | null {
  const at = rows.filter((r) => typeof r.kernelShare === 'number' && typeof r.width === 'number');
  if (!at.length) return null;
  const widths = at.map((r) => r.width as number);
  const lo = Math.min(...widths);
  const hi = Math.max(...widths);
  const mean = (w: number): number => {
    const v = at.filter((r) => r.width === w).map((r) => r.kernelShare as number);
    return v.reduce((s, x) => s + x, 0) / v.length;
  };
  const pct = (v: number): string => `${Math.round(100 * v)}%`;
  return lo === hi
    ? `fan-in-n share of the kernel ${pct(mean(lo))} (n = ${lo})`
    : `fan-in-n share of the kernel ${pct(mean(lo))} (n = ${lo}) → ${pct(mean(hi))} (n = ${hi})`;
}

/** What every interval in the claims covers. */
export const INTERVAL_NOTE = '95% t-intervals over seeds';
