// A figure's data, embedded once in the page: the rows behind its CSV download and the points its
// spec draws, in one compact column-wise block. Points made from a row (`_row`, set by facet())
// refer to that row's columns instead of repeating them, where every such point equals the row's
// value; repeated values (panel names, widths, alphas) are stored once in a dictionary.
//
// The browser decodes it (client/client.ts bundles this module), hands the points to vega as the
// spec's data and writes the CSV from the rows on demand: one copy serves the figure and its
// download. Runs in Node and in the browser: no imports besides types and d3-dsv (plain ESM,
// bundled into the client script).

// d3-dsv's types, for the client's own tsconfig too (the root one includes the file).
/// <reference path="../../pipeline/engine/d3-modules.d.ts" />
import { csvFormat } from 'd3-dsv';
import type { DataRow, Datum, Scalar } from './charts/data.ts';

/** The field facet() sets on a point made from input row i (the spec's data keeps it). */
export const ROW_FIELD = '_row';

/** One column: a constant, a dictionary (`d`: values, `i`: index per row), plain values, or a
 *  reference to a row column (`r`) with `t`: the values of points that come from no row. */
export type Column = { c: Scalar } | { d: Scalar[]; i: number[] } | { v: Scalar[] } | { r: string; t: Column };

export interface Table {
  n: number;
  columns: Record<string, Column>;
}

/**
 * What a figure's JSON block holds: the vega spec (compiled from the figure's vega-lite spec when
 * the page is built, so the browser loads no vega-lite and compiles nothing) without its values,
 * the points, the rows.
 */
export interface FigureData {
  spec: Record<string, unknown>;
  points: Table;
  rows: Table;
  /** CSV column order. */
  csvColumns: string[];
}

/** Non-finite numbers have no JSON form: the rows keep them as the text a CSV shows. */
const jsonSafe = (v: Scalar | undefined): Scalar => (v === undefined ? null : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

function column(values: Scalar[]): Column {
  if (values.length > 0 && values.every((v) => v === values[0])) return { c: values[0]! };
  const dict: Scalar[] = [];
  const at = new Map<Scalar, number>();
  const idx = values.map((v) => {
    let k = at.get(v);
    if (k === undefined) at.set(v, (k = dict.push(v) - 1));
    return k;
  });
  // A dictionary pays when values repeat (panel names, widths); plain otherwise (measurements).
  return dict.length * 4 < values.length ? { d: dict, i: idx } : { v: values };
}

export function encodeTable(rows: readonly Record<string, Scalar | undefined>[], columns: readonly string[]): Table {
  const out: Record<string, Column> = {};
  for (const c of columns) out[c] = column(rows.map((r) => jsonSafe(r[c])));
  return { n: rows.length, columns: out };
}

/**
 * The points as a table, each field that equals a row column on every point from a row stored as
 * that reference. `_row` itself is stored as differences (mostly 1: points follow their rows).
 */
export function encodePoints(points: readonly Datum[], rows: readonly DataRow[], rowColumns: readonly string[]): Table {
  const fields = [...new Set(points.flatMap((p) => Object.keys(p)))].filter((f) => f !== ROW_FIELD);
  const fromRow = points.map((p) => {
    const i = p[ROW_FIELD];
    return typeof i === 'number' && i >= 0 && i < rows.length ? i : -1;
  });
  const columns: Record<string, Column> = {};
  for (const f of fields) {
    const ref = fromRow.some((i) => i >= 0)
      ? rowColumns.find((c) => points.every((p, k) => fromRow[k]! < 0 || Object.is(p[f] ?? null, jsonSafe(rows[fromRow[k]!]![c]))))
      : undefined;
    if (ref !== undefined) columns[f] = { r: ref, t: column(points.filter((_, k) => fromRow[k]! < 0).map((p) => p[f] ?? null)) };
    else columns[f] = column(points.map((p) => p[f] ?? null));
  }
  let prev = -1;
  columns[ROW_FIELD] = column(fromRow.map((i) => {
    const d = i < 0 ? null : i - prev;
    if (i >= 0) prev = i;
    return d;
  }));
  return { n: points.length, columns };
}

function values(col: Column, n: number, rows: readonly DataRow[] | null, rowOf: readonly number[] | null): Scalar[] {
  if ('c' in col) return new Array<Scalar>(n).fill(col.c);
  if ('d' in col) return col.i.map((k) => col.d[k]!);
  if ('v' in col) return col.v;
  const own = values(col.t, rowOf ? rowOf.filter((i) => i < 0).length : 0, null, null);
  let t = 0;
  return Array.from({ length: n }, (_, k) => {
    const i = rowOf?.[k] ?? -1;
    return i >= 0 && rows ? (rows[i]![col.r] ?? null) : own[t++]!;
  });
}

export function decodeTable(t: Table): DataRow[] {
  const cols = Object.entries(t.columns).map(([name, c]) => [name, values(c, t.n, null, null)] as const);
  return Array.from({ length: t.n }, (_, k) => Object.fromEntries(cols.map(([name, v]) => [name, v[k]!])));
}

export function decodePoints(t: Table, rows: readonly DataRow[]): Datum[] {
  const deltas = values(t.columns[ROW_FIELD] ?? { c: null }, t.n, null, null);
  let prev = -1;
  const rowOf = deltas.map((d) => (typeof d === 'number' ? (prev += d) : -1));
  const cols = Object.entries(t.columns)
    .filter(([name]) => name !== ROW_FIELD)
    .map(([name, c]) => [name, values(c, t.n, rows, rowOf)] as const);
  return Array.from({ length: t.n }, (_, k) => Object.fromEntries(cols.map(([name, v]) => [name, v[k]!])));
}

/** The data set a figure's points are: named in the vega-lite spec, the same name in the compiled vega spec. */
export const POINTS = 'points';

/** Split a vega-lite spec's inline `data.values` off (the caller embeds them encoded); its data becomes the named set POINTS. */
export function detachValues(spec: object): { spec: Record<string, unknown>; values: Datum[] } {
  const s = spec as Record<string, unknown> & { data?: { values?: Datum[] } };
  const vals = s.data?.values ?? [];
  return { spec: { ...s, data: { name: POINTS } }, values: vals };
}

/** The compiled vega spec with its points back in place as the values of its data set POINTS. */
export function attachValues(spec: Record<string, unknown>, points: Datum[]): Record<string, unknown> {
  const data = spec.data;
  if (!Array.isArray(data) || !data.some((d) => (d as { name?: unknown }).name === POINTS)) throw new Error(`the figure's vega spec has no data set '${POINTS}'`);
  return { ...spec, data: data.map((d) => ((d as { name?: unknown }).name === POINTS ? { ...(d as object), values: points } : d)) };
}

/**
 * CSV by d3-dsv (RFC 4180, the same writer as `weakcorr results --format csv`) with a header line
 * and '\n' line ends, the last line ended too. Null/missing -> empty field; numbers at full
 * precision (JS shortest round-trip form; NaN and Infinity as written by JS).
 */
export function toCsv(rows: readonly Record<string, Scalar | undefined>[], columns: readonly string[]): string {
  return `${csvFormat(rows, columns)}\n`;
}
