// A protocol's FitSpec applied to its rows: one power-law fit in width per group.
import type { FitGroupResult, Row } from '../contracts/fits.ts';
import type { FitSpec, GroupKey } from '../protocols/protocol.ts';
import { fitGroups, type BootstrapOptions, type FitPoint } from '../stats/powerlaw.ts';

// A row's `${value}Floor` column, where its table has one, is the value's measured rounding floor.
const toPoint = (value: string) => (r: Row): FitPoint => ({
  x: r.width as number, y: r[value] as number, seed: r.seed as number, status: typeof r.status === 'string' ? r.status : 'ok',
  ...(typeof r[`${value}Floor`] === 'number' ? { floor: r[`${value}Floor`] as number } : {}),
});

/** `widest`: fit each group on its that many widest widths only (absent: every width). */
export function fitSpecGroups(spec: FitSpec<string>, rows: Row[], opts: BootstrapOptions, widest?: number): FitGroupResult[] {
  return fitGroups(rows, spec.keys, opts, toPoint(spec.value), widest).map((g) => {
    const key = g.key as GroupKey;
    return { metric: spec.metric, key, id: `${spec.metric}:${g.id}`, fit: g.fit, paper: spec.paper?.(key) ?? null, expectations: spec.expectations(key) };
  });
}
