// `check`: the claims' verdicts against a committed baseline file. A baseline lists, per claim id,
// the expected value of each gated column (e.g. verdict); a claim may also list other values it is
// known to take (`accept`, with a `note` saying why), e.g. where the verdict sits on a boundary
// that float32 rounding on another backend crosses. Any other change, a new claim or a claim that
// is no longer reported fails the check.
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';
import type { MetricValue, VerdictRow } from './types.ts';

export interface BaselineClaim {
  /** Gated column -> expected value. */
  expect: Record<string, MetricValue>;
  /** Gated column -> further values accepted without failing (a claim known to flip). */
  accept?: Record<string, MetricValue[]>;
  /** Why the alternatives are accepted. */
  note?: string;
}

export interface Baseline {
  experiment: string;
  gate: string[];
  claims: Record<string, BaselineClaim>;
}

export interface VerdictChange {
  id: string;
  kind: 'changed' | 'new' | 'gone';
  /** The gated column that changed ('changed' only). */
  column?: string;
  was?: MetricValue;
  now?: MetricValue;
}

export interface CheckResult {
  ok: boolean;
  changes: VerdictChange[];
  /** Claims equal to the baseline. */
  matched: number;
  /** Claims that took one of their accepted alternatives (id, column, value). */
  accepted: { id: string; column: string; now: MetricValue }[];
}

const same = (a: MetricValue | undefined, b: MetricValue | undefined): boolean => (a ?? null) === (b ?? null);

/** The current verdicts against a baseline: every change of a gated column, new and gone claims. */
export function compareVerdicts(baseline: Baseline, current: readonly VerdictRow[]): CheckResult {
  const changes: VerdictChange[] = [];
  const accepted: CheckResult['accepted'] = [];
  let matched = 0;
  const seen = new Set<string>();
  for (const row of current) {
    seen.add(row.id);
    const base = baseline.claims[row.id];
    if (!base) {
      changes.push({ id: row.id, kind: 'new', now: row[baseline.gate[0] ?? 'verdict'] ?? null });
      continue;
    }
    let equal = true;
    for (const column of baseline.gate) {
      const now = row[column] ?? null;
      if (same(base.expect[column], now)) continue;
      if (base.accept?.[column]?.some((v) => same(v, now))) {
        accepted.push({ id: row.id, column, now });
        continue;
      }
      equal = false;
      changes.push({ id: row.id, kind: 'changed', column, was: base.expect[column] ?? null, now });
    }
    if (equal) matched++;
  }
  for (const [id, base] of Object.entries(baseline.claims))
    if (!seen.has(id)) changes.push({ id, kind: 'gone', was: base.expect[baseline.gate[0] ?? 'verdict'] ?? null });
  return { ok: changes.length === 0, changes, matched, accepted };
}

/**
 * The baseline for the current verdicts: expected values from `current`; the accepted alternatives
 * and notes of claims that are still reported are kept (an alternative equal to the new expected
 * value is dropped, the old expected value is not added: accepting is a decision, written by hand).
 */
export function updatedBaseline(experiment: string, gate: readonly string[], current: readonly VerdictRow[], old?: Baseline): Baseline {
  const claims: Record<string, BaselineClaim> = {};
  for (const row of current) {
    const expect = Object.fromEntries(gate.map((c) => [c, row[c] ?? null]));
    const prev = old?.claims[row.id];
    const accept: Record<string, MetricValue[]> = {};
    for (const [c, values] of Object.entries(prev?.accept ?? {})) {
      const rest = values.filter((v) => !same(v, expect[c]));
      if (rest.length) accept[c] = rest;
    }
    claims[row.id] = { expect, ...(Object.keys(accept).length ? { accept } : {}), ...(prev?.note ? { note: prev.note } : {}) };
  }
  return { experiment, gate: [...gate], claims };
}

const isCell = (v: unknown): v is MetricValue => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A baseline file, checked field by field (a bad one names the file and the field). */
export function parseBaseline(text: string, file: string): Baseline {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not JSON (${(e as Error).message})`);
  }
  const bad = (field: string, expected: string): never => {
    throw new ConfigError(`${file}: ${field}: expected ${expected}`);
  };
  if (!isObject(raw)) return bad('/', 'an object with experiment, gate and claims');
  if (typeof raw.experiment !== 'string') bad('experiment', 'a string');
  if (!Array.isArray(raw.gate) || !raw.gate.length || !raw.gate.every((g) => typeof g === 'string')) bad('gate', 'a non-empty list of column names');
  if (!isObject(raw.claims)) bad('claims', 'an object: claim id -> { expect, accept?, note? }');
  const claims = raw.claims as Record<string, unknown>;
  for (const [id, c] of Object.entries(claims)) {
    const at = `claims["${id}"]`;
    if (!isObject(c)) return bad(at, 'an object { expect, accept?, note? }');
    if (!isObject(c.expect) || !Object.values(c.expect).every(isCell)) bad(`${at}.expect`, 'an object: column -> string, number, boolean or null');
    if (c.accept !== undefined && (!isObject(c.accept) || !Object.values(c.accept).every((l) => Array.isArray(l) && l.every(isCell))))
      bad(`${at}.accept`, 'an object: column -> list of accepted values');
    if (c.note !== undefined && typeof c.note !== 'string') bad(`${at}.note`, 'a string');
  }
  return raw as unknown as Baseline;
}

export function readBaseline(file: string): Baseline {
  return parseBaseline(readFileSync(file, 'utf8'), file);
}

/** A baseline as committed: claims in the order reported, two-space JSON, a final newline. */
export const baselineText = (b: Baseline): string => `${JSON.stringify(b, null, 2)}\n`;
