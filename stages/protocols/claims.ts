// Building a verdict-table row (protocol.ts Claim) from fitted groups: the measured range with
// each group's t-interval, the widths fitted next to the paper's, and the rule's verdict
// (stats/verdict.ts).
import type { FitGroupResult } from '../contracts/fits.ts';
import { combineVerdicts, verdict } from '../stats/verdict.ts';
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
  paper: string | null;
  bound: string | null;
  /** The slope bound the verdict tests (the tightest that applies); null: none. */
  boundSlope: number | null;
  paperWidths: readonly [number, number];
  groups: readonly FitGroupResult[];
  /** What the interval covers, and anything the verdict leaves out; appended to `why`. */
  note?: string;
}

/** Each group's slope with its t-interval. */
export const measuredOf = (groups: readonly FitGroupResult[]): Claim['measured'] =>
  groups.map((g) => ({ slope: g.fit.slope, lo: g.fit.ci?.lo ?? null, hi: g.fit.ci?.hi ?? null }));

/** The one paper slope its groups share (Figure 4 claims are per α), else null. */
function sharedPaperSlope(groups: readonly FitGroupResult[]): number | null {
  const values = [...new Set(groups.map((g) => g.paper))];
  return values.length === 1 ? values[0]! : null;
}

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
  const per = c.groups.map((g) => verdict({
    slope: g.fit.slope, lo: g.fit.ci?.lo ?? null, hi: g.fit.ci?.hi ?? null, r2: g.fit.r2,
    widths: g.fit.xMin !== null && g.fit.xMax !== null ? [g.fit.xMin, g.fit.xMax] : null,
    paperWidths, bound: c.boundSlope, paper: g.paper,
  }));
  const v = combineVerdicts(per);
  return {
    claim: c.claim, paper: c.paper, bound: c.bound, paperSlope: sharedPaperSlope(c.groups), boundSlope: c.boundSlope,
    groups: c.groups.map((g) => g.id),
    measured: measuredOf(c.groups),
    widths: { here: fittedWidths(c.groups), paper: widthText(paperWidths) },
    verdict: v.verdict,
    why: [v.why, c.note, exclusionNote(c.groups)].filter(Boolean).join('. '),
  };
}

/** What every interval in the claims covers. */
export const INTERVAL_NOTE = '95% t-intervals over seeds';
