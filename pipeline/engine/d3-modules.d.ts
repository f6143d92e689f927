// Types for the two d3 modules this project calls directly (vega depends on both, so they add no
// package). Neither ships types and @types/d3-dsv / @types/d3-format are not installed: these are
// the few functions we call, typed as their documentation gives them (d3js.org/d3-dsv,
// d3js.org/d3-format). The root tsconfig includes this file; stages/page/figure-data.ts names it
// for the client script's tsconfig.

declare module 'd3-dsv' {
  /** A cell as d3-dsv writes it: null/undefined -> empty field, anything else String(v). */
  export type DSVCell = string | number | boolean | null | undefined;
  /** Rows of cells -> CSV text, '\n' line ends, no trailing one; a field is quoted only when it holds a comma, quote, CR or LF. */
  export function csvFormatRows(rows: readonly (readonly DSVCell[])[]): string;
  /** Objects -> CSV text with a header line of `columns` (each row's value by name; missing -> empty). */
  export function csvFormat(rows: readonly Readonly<Record<string, DSVCell>>[], columns: readonly string[]): string;
  /** CSV text -> rows of strings (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes). */
  export function csvParseRows(text: string): string[][];
}

declare module 'd3-format' {
  /** A formatter for a d3 format specifier such as '.2f' (its minus sign is U+2212 in the default locale). */
  export function format(specifier: string): (n: number) => string;
}
