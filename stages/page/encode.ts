// Text encodings the page needs: HTML escaping, JSON inside <script>, CSV, data: URIs and
// readable JSON.

import type { DataRow } from './charts/index.ts';
import { toCsv as csvOf } from './figure-data.ts';
import type { JsonValue } from './types.ts';

/** Escape text for HTML element content and (double- or single-quoted) attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON safe to place inside a <script> element: `<`, `>`, `&` and the JS line separators are
 * \u-escaped, so no `</script>` or `<!--` can appear, and JSON.parse gives the value back.
 */
export function jsonForScript(value: JsonValue | object): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Columns in order of first appearance across rows. */
export function csvColumns(rows: readonly DataRow[]): string[] {
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const r of rows)
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k);
        cols.push(k);
      }
  return cols;
}

/** RFC 4180 CSV of `rows` (figure-data.ts writes it, in Node and in the page alike). */
export function toCsv(rows: readonly DataRow[], columns?: readonly string[]): string {
  return csvOf(rows, columns ?? csvColumns(rows));
}

/** A data: URI carrying text (CSV by default); works from file:// with no network. */
export function textDataUri(text: string, mime = 'text/csv'): string {
  return `data:${mime};charset=utf-8,${encodeURIComponent(text)}`;
}

/**
 * JSON.stringify(v, null, 2), except that arrays of scalars that fit in `width` characters stay
 * on one line (a config's width lists stay readable).
 */
export function prettyJson(value: JsonValue, width = 100): string {
  const fmt = (v: JsonValue, indent: string): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    const inner = indent + '  ';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      if (v.every((x) => x === null || typeof x !== 'object')) {
        const one = `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
        if (one.length + indent.length <= width) return one;
      }
      return `[\n${v.map((x) => inner + fmt(x, inner)).join(',\n')}\n${indent}]`;
    }
    const keys = Object.keys(v);
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${fmt(v[k], inner)}`).join(',\n')}\n${indent}}`;
  };
  return fmt(value, '');
}
