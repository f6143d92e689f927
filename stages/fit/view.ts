// What protocols see of the fits artifact (their rows and fitted groups), and their claims judged
// on it: the report's verdict table and `weakcorr results --table verdicts` / `check` read the same.
import type { VerdictRow } from '../../pipeline/engine/types.ts';
import type { Fits, FitGroupResult, Row } from '../contracts/fits.ts';
import type { Protocol, ProtocolView } from '../protocols/protocol.ts';
import type { Claim } from '../stats/verdict.ts';

export function viewOf(fits: Fits, p: Protocol): ProtocolView<string> {
  const metrics = new Set(p.fits.map((f) => f.metric));
  return {
    rows: (table) => (fits.rows[table] ?? []) as Row[],
    groups: (metric): FitGroupResult[] => {
      if (!metrics.has(metric)) throw new Error(`protocol ${p.id} has no fit '${metric}' (its fits: ${[...metrics].join(', ')})`);
      return fits.groups.filter((g) => g.metric === metric);
    },
  };
}

/** Every protocol's claims, in registry order, each with the protocol it belongs to. */
export function claimsOf(fits: Fits, protocols: readonly Protocol[]): { protocol: string; claim: Claim }[] {
  return protocols.flatMap((p) => (p.claims?.(viewOf(fits, p)) ?? []).map((claim) => ({ protocol: p.id, claim })));
}

/** A claim's stable id: its protocol and its name ('a2: Figure 4, α = 0'). */
export const claimId = (protocol: string, c: Claim): string => `${protocol}: ${c.claim}`;

/**
 * One verdict-table row per claim. Measured: over the claim's fitted groups, the smallest and
 * largest slope and the envelope of their 95% t-intervals (one group: its slope and interval).
 */
export function verdictRow(protocol: string, c: Claim): VerdictRow {
  const fitted = c.measured.filter((m): m is { slope: number; lo: number | null; hi: number | null } => m.slope !== null && Number.isFinite(m.slope));
  const los = fitted.map((m) => m.lo).filter((v): v is number => v !== null);
  const his = fitted.map((m) => m.hi).filter((v): v is number => v !== null);
  return {
    id: claimId(protocol, c),
    protocol,
    claim: c.claim,
    source: c.source,
    kind: c.kind,
    verdict: c.verdict,
    paper_verdict: c.paperVerdict?.verdict ?? null,
    groups: c.measured.length,
    slope_min: fitted.length ? Math.min(...fitted.map((m) => m.slope)) : null,
    slope_max: fitted.length ? Math.max(...fitted.map((m) => m.slope)) : null,
    ci_lo: los.length === fitted.length && los.length ? Math.min(...los) : null,
    ci_hi: his.length === fitted.length && his.length ? Math.max(...his) : null,
    bound: c.bound,
    bound_slope: c.boundSlope,
    paper: c.paper,
    paper_slope: c.paperSlope,
    widths_here: c.widths.here ? `${c.widths.here[0]}-${c.widths.here[1]}` : null,
    widths_paper: c.widths.paper,
    reason: c.why,
    paper_reason: c.paperVerdict?.why ?? null,
    regime: c.regime,
  };
}
