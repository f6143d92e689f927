// The data vocabulary every chart shares: input rows, the internal field names that specs read,
// and small helpers that normalize row values.

import { format } from 'd3-format';
import type { TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec };

/** A value a data row may hold. */
export type Scalar = string | number | boolean | null;
/** One row of a chart's data (also one CSV line). */
export type DataRow = Record<string, Scalar>;
/** One normalized data point of a chart spec: internal `_` fields only (see F). */
export type Datum = Record<string, Scalar>;

/** A layer inside a layered spec (derived so that no unstable vega-lite path is imported). */
export type LayerItem = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

/** The internal field names every builder normalizes rows to (no dots: vega reads dots as paths). */
export const F = {
  kind: '_kind',
  panel: '_panel',
  series: '_series',
  x: '_x',
  y: '_y',
  seed: '_seed',
  line: '_line',
  label: '_label',
  dash: '_dash',
} as const;

/**
 * A number as the report prints it: fixed digits and a typographic minus ("−0.25"), by d3-format,
 * the formatter vega uses for the axis labels beside it; a value that rounds to zero prints
 * unsigned ("0.00", not "−0.00").
 */
export function signed(v: number, digits = 2): string {
  return format(`.${digits}f`)(v);
}

export function fmtScalar(v: Scalar): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return String(v);
}

export function pick(row: Record<string, Scalar>, fields: readonly string[]): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const f of fields) out[f] = row[f] ?? null;
  return out;
}

/** A row value as a number: numeric strings count (CSV-like rows), anything else is NaN. */
export function num(v: Scalar | undefined): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
}

/** True when `row` has every field of `key` with an equal value (a partial key matches more). */
export function matches(row: Record<string, Scalar>, key: Record<string, Scalar> | undefined): boolean {
  if (!key) return true;
  return Object.entries(key).every(([k, v]) => row[k] === v);
}

/** Drawable on a log axis. */
export const positive = (v: number): boolean => Number.isFinite(v) && v > 0;

export function firstAppearance(values: readonly string[]): string[] {
  return [...new Set(values)];
}
