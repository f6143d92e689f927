// Text encodings the page needs: HTML escaping, JSON inside <script>, CSV, data: URIs and
// readable JSON.

import type { DataRow, Scalar } from './charts/index.ts';
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

function csvField(v: Scalar | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
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

/**
 * RFC 4180 CSV with a header line and '\n' line ends. Null/missing -> empty field; numbers at
 * full precision (JS shortest round-trip form; NaN and Infinity as written by JS).
 */
export function toCsv(rows: readonly DataRow[], columns?: readonly string[]): string {
  const cols = columns ?? csvColumns(rows);
  const lines = [cols.map(csvField).join(',')];
  for (const r of rows) lines.push(cols.map((c) => csvField(r[c])).join(','));
  return lines.join('\n') + '\n';
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
