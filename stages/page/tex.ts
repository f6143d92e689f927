// TeX-like names as plain Unicode text: `C^{0,2}` -> `C⁰²`, `n^{-1/2}` -> `n⁻¹ᐟ²`, `f_{lin}` -> `f_lin`
// is left alone (only braced subscripts of digits convert). Protocols write TeX-ish strings; the
// page shows text, so the conversion happens once, on the report's input (texInput), for every
// string the page or its CSVs show.
import type { ReportInput } from './types.ts';

const SUP: Record<string, string> = {
  '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹',
  '+': '⁺', '-': '⁻', '\u2212': '⁻', '=': '⁼', '(': '⁽', ')': '⁾', '/': 'ᐟ', '.': '·',
  a: 'ᵃ', b: 'ᵇ', c: 'ᶜ', d: 'ᵈ', e: 'ᵉ', f: 'ᶠ', g: 'ᵍ', h: 'ʰ', i: 'ⁱ', j: 'ʲ', k: 'ᵏ', l: 'ˡ', m: 'ᵐ',
  n: 'ⁿ', o: 'ᵒ', p: 'ᵖ', r: 'ʳ', s: 'ˢ', t: 'ᵗ', u: 'ᵘ', v: 'ᵛ', w: 'ʷ', x: 'ˣ', y: 'ʸ', z: 'ᶻ',
  L: 'ᴸ', T: 'ᵀ', 'α': 'ᵅ', 'β': 'ᵝ', 'θ': 'ᶿ',
};
const SUB: Record<string, string> = {
  '0': '₀', '1': '₁', '2': '₂', '3': '₃', '4': '₄', '5': '₅', '6': '₆', '7': '₇', '8': '₈', '9': '₉',
  '+': '₊', '-': '₋', '\u2212': '₋', '=': '₌', '(': '₍', ')': '₎',
};
const MACROS: Record<string, string> = {
  alpha: 'α', beta: 'β', eta: 'η', theta: 'θ', sigma: 'σ', mu: 'μ', lambda: 'λ', delta: 'δ', Delta: 'Δ',
  le: '≤', leq: '≤', ge: '≥', geq: '≥', sim: '~', approx: '≈', cdot: '·', times: '×', infty: '∞',
};

/** `s` in a script alphabet, or null when some character has no script form (then it stays TeX). */
function script(s: string, table: Record<string, string>): string | null {
  // `0,2`: single-character indices separated by commas read as one superscript (C⁰²).
  const parts = s.split(',');
  const body = parts.length > 1 && parts.every((p) => p.trim().length === 1) ? parts.map((p) => p.trim()).join('') : s;
  let out = '';
  for (const ch of body.replace(/\s+/g, '')) {
    const t = table[ch];
    if (t === undefined) return null;
    out += t;
  }
  return out;
}

/**
 * TeX-like markup to Unicode text: `^{...}` and `^x` become superscripts, `_{digits}` subscripts,
 * `\alpha`-style macros their symbols. Anything without a Unicode form is kept as written, so the
 * function never loses information; plain text passes through unchanged.
 */
export function texToText(s: string): string {
  if (!/[\^\\]|_\{/.test(s)) return s;
  return s
    .replace(/\\([A-Za-z]+)/g, (all, name: string) => MACROS[name] ?? all)
    .replace(/\^\{([^{}]*)\}|\^([0-9A-Za-z\u2212+-](?![A-Za-z0-9]))|\^(-?[0-9]+)/g, (all, braced?: string, one?: string, num?: string) => {
      const inner = braced ?? one ?? num ?? '';
      return script(inner, SUP) ?? all;
    })
    .replace(/_\{([^{}]*)\}/g, (all, inner: string) => script(inner, SUB) ?? all);
}

/**
 * A vega-lite spec with every visible string converted by texToText. Keys stay as they are, and
 * so do the values of keys that name fields or hold expressions, which must keep matching the data.
 */
export function texSpec<T>(spec: T): T {
  const keep = new Set(['field', 'filter', 'expr', 'calculate', 'test', 'labelExpr', 'format', 'as', 'name', 'signal', 'param']);
  const walk = (v: unknown, key: string | null): unknown => {
    if (typeof v === 'string') return key !== null && keep.has(key) ? v : texToText(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(spec, null) as T;
}

/** Every string in plain data (arrays, objects) through texToText; keys stay as they are. */
function texStrings<T>(v: T): T {
  if (typeof v === 'string') return texToText(v) as T;
  if (Array.isArray(v)) return v.map((x) => texStrings(x)) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, texStrings(x)])) as T;
  return v;
}

/**
 * The report's input with its TeX-like names as text, once, so the page, its figures and every
 * CSV download say C⁰² alike. The provenance (config values, versions, paths) stays verbatim.
 */
export function texInput(input: ReportInput): ReportInput {
  return {
    ...texStrings({ ...input, provenance: null, figures: [] }),
    provenance: input.provenance,
    figures: input.figures.map((f) => ({ ...texStrings({ ...f, spec: null }), spec: texSpec(f.spec) })),
  };
}
