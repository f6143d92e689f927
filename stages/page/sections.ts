// The page's parts as HTML fragments: figures, the headline table and the provenance section.
// Every text from the input is escaped here.

import { compileToVega, renderSvg, signed, type DataRow, type SlopeRow, type TopLevelSpec } from './charts/index.ts';
import { csvColumns, escapeHtml, jsonForScript, prettyJson, textDataUri, toCsv } from './encode.ts';
import { detachValues, encodePoints, encodeTable, type FigureData } from './figure-data.ts';
import type { Claim, FigureInput, HeadlineRow, Provenance, Verdict } from './types.ts';

function fmtNum(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : signed(v, digits);
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return 'n/a';
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Visible text, escaped (TeX-like names are already text: html.ts converts the input once). */
export function text(s: string): string {
  return escapeHtml(s);
}

function table(headers: readonly string[], rows: readonly string[][], cls = ''): string {
  const head = headers.map((h) => `<th scope="col">${text(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

function kvTable(entries: [string, string][]): string {
  const body = entries.map(([k, v]) => `<tr><th scope="row">${text(k)}</th><td>${v}</td></tr>`).join('\n');
  return `<table class="kv"><tbody>\n${body}\n</tbody></table>`;
}

export interface RenderedFigure {
  anchor: string;
  title: string;
  caption: string;
  /** The id of the figure's JSON block (interactive pages: spec, points and rows, figure-data.ts). */
  dataId: string;
  /** That block's JSON; null on a static page. */
  json: string | null;
  /** The static rendering, on a static page only (an interactive page draws each figure once, in the browser). */
  svg: string | null;
  /** The CSV as a data: URI, on a static page only (an interactive page writes it from the JSON block). */
  csvUri: string | null;
  csvName: string;
  nRows: number;
}

/**
 * Everything a figure embeds, once: its spec without values, compiled to vega here (the page then
 * neither loads vega-lite nor compiles at load), the points it draws, its CSV rows.
 */
export async function figureData(f: FigureInput): Promise<FigureData> {
  const columns = [...(f.columns ?? csvColumns(f.data))];
  const { spec, values } = detachValues(f.spec);
  const vega = (await compileToVega(spec as unknown as TopLevelSpec)) as unknown as Record<string, unknown>;
  return { spec: vega, points: encodePoints(values, f.data, columns), rows: encodeTable(f.data, columns), csvColumns: columns };
}

/**
 * One rendering per figure. Interactive (the default): the figure's JSON block only; the page's
 * script draws it (SVG) at load, so screen and print show that one drawing. Static: an SVG
 * rendered here and the CSV as a data: URI, with no script at all.
 */
export async function renderFigure(f: FigureInput, anchor: string, interactive = true): Promise<RenderedFigure> {
  const base = { anchor, title: f.title, caption: f.caption, dataId: `data-${anchor}`, csvName: `${anchor}.csv`, nRows: f.data.length };
  if (interactive) return { ...base, json: jsonForScript(await figureData(f)), svg: null, csvUri: null };
  // Page-unique ids: several inlined SVGs must not share clip-path ids.
  return { ...base, json: null, svg: await renderSvg(f.spec, `${anchor}-`), csvUri: textDataUri(toCsv(f.data, f.columns)) };
}

/**
 * `label`: the figure's number (or a name, for figures outside the numbered list). `dataNote`:
 * said instead of the figure's own CSV link, where that data is offered elsewhere on the page.
 */
export function figureHtml(f: RenderedFigure, label: number | string, dataNote?: string): string {
  const name = typeof label === 'number' || /^S?\d+$/.test(label) ? `Figure ${label}. ` : text(label);
  const interactive = f.json !== null;
  const hint = interactive
    ? '<span class="hint"> · hover for values; drag to pan, scroll to zoom, double-click to reset</span>'
    : '';
  const chart = interactive
    ? `<div class="chart" data-figure="${escapeHtml(f.dataId)}"><noscript><p class="muted">This figure is drawn by the page's script; with scripts off, its data is in the JSON block below it in the page source.</p></noscript></div>`
    : `<div class="chart"><div class="static">${f.svg}</div></div>`;
  const link = interactive
    ? `<a download="${escapeHtml(f.csvName)}" href="#" data-csv="${escapeHtml(f.dataId)}">Download data (CSV, ${f.nRows} rows)</a>`
    : `<a download="${escapeHtml(f.csvName)}" href="${escapeHtml(f.csvUri ?? '')}">Download data (CSV, ${f.nRows} rows)</a>`;
  return `<section class="figure" id="${escapeHtml(f.anchor)}">
<h3>${name}${text(f.title)}</h3>
<figure>
${chart}
<figcaption>${text(f.caption)}</figcaption>
</figure>
<p class="downloads">${dataNote ? text(dataNote) : link}${hint}</p>
${interactive ? `<script type="application/json" id="${escapeHtml(f.dataId)}">${f.json}</script>` : ''}
</section>`;
}

/**
 * Figure numbers: a figure that reproduces one of the paper's ("Fig. 4", "Fig. 1 (…)") takes the
 * paper's number; every other figure is supplementary, S1, S2, … in page order. So "Figure 1"
 * here is the paper's Figure 1, and no mapping is needed.
 */
export function figureNumbers(figures: readonly { paperFigure?: string }[]): string[] {
  const taken = new Set<string>();
  let s = 0;
  return figures.map((f) => {
    const n = /^Fig\. (\d+)\b/.exec(f.paperFigure ?? '')?.[1];
    if (n && !taken.has(n)) {
      taken.add(n);
      return n;
    }
    return `S${++s}`;
  });
}

/** The per-group table as CSV rows (the table's columns, numbers unrounded). */
export function headlineData(rows: readonly HeadlineRow[]): DataRow[] {
  return rows.map((r) => ({
    claim: r.claim,
    paper: r.paper ?? null,
    theory: r.theory || null,
    slope: r.slope,
    ci_lo: r.ciLo,
    ci_hi: r.ciHi,
    r2: r.r2,
    n_points: r.nPoints,
    n_seeds: r.nSeeds ?? null,
    excluded: r.excluded ?? null,
    note: r.note || null,
  }));
}

export function headlineHtml(rows: readonly HeadlineRow[]): string {
  const headers = ['Claim', 'Paper', 'Reference lines', 'Measured slope [95% CI]', 'R²', 'n points (seeds)', 'Excluded', 'Note'];
  const body = rows.map((r) => {
    const measured =
      r.slope === null
        ? 'n/a'
        : `<strong>${fmtNum(r.slope, 2)}</strong>` +
          (r.ciLo !== null && r.ciHi !== null ? ` [${fmtNum(r.ciLo, 2)}, ${fmtNum(r.ciHi, 2)}]` : ' [CI n/a]');
    return [
      text(r.claim),
      r.paper ? text(r.paper) : '—',
      r.theory ? text(r.theory) : '—',
      measured,
      fmtNum(r.r2, 3),
      `${r.nPoints}${r.nSeeds !== undefined ? ` (${r.nSeeds})` : ''}`,
      r.excluded !== undefined ? String(r.excluded) : '—',
      r.note ? text(r.note) : '',
    ];
  });
  const cls = ['', '', '', 'num', 'num', 'num', 'num', ''];
  const head = headers.map((h, i) => `<th scope="col"${cls[i] ? ` class="${cls[i]}"` : ''}>${text(h)}</th>`).join('');
  const trs = body
    .map((r) => `<tr>${r.map((c, i) => `<td${cls[i] ? ` class="${cls[i]}"` : ''}>${c}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="table-wrap"><table class="headline"><thead><tr>${head}</tr></thead>\n<tbody>\n${trs}\n</tbody></table></div>`;
}

export function provenanceHtml(p: Provenance): string {
  const gitCell =
    `<code>${text(p.git.commit)}</code>` +
    (p.git.branch ? ` on <code>${text(p.git.branch)}</code>` : '') +
    (p.git.dirty
      ? ' <span class="dirty">dirty: the working tree had uncommitted changes</span>'
      : ' <span class="muted">(clean)</span>');
  const summary: [string, string][] = [];
  if (p.experiment) summary.push(['Experiment', `<code>${text(p.experiment)}</code>`]);
  summary.push(['Built at commit', gitCell]);
  for (const [k, v] of Object.entries(p.runtime)) summary.push([k, text(v)]);
  for (const line of p.notes ?? []) summary.push(['Note', text(line)]);

  const t = p.tasks;
  const counts: [string, string][] = [];
  if (t.total !== undefined) counts.push(['Upstream tasks', String(t.total)]);
  if (t.executed !== undefined) counts.push(['Executed', String(t.executed)]);
  if (t.cached !== undefined) counts.push(['Cached (reused)', String(t.cached)]);
  if (t.failed !== undefined) counts.push(['Failed', String(t.failed)]);
  counts.push(['Diverged (excluded from fits)', String(t.diverged)]);
  if (t.skipped !== undefined) counts.push(['Skipped (upstream failed)', String(t.skipped)]);

  const timed = p.stages.some((s) => s.wallSeconds !== undefined);
  const stageRows = p.stages.map((s) => [
    `<code>${text(s.stage)}</code>`,
    s.tasks !== undefined ? String(s.tasks) : '—',
    ...(timed
      ? [
          s.executed !== undefined ? String(s.executed) : '—',
          s.cached !== undefined ? String(s.cached) : '—',
          s.failed !== undefined ? String(s.failed) : '—',
          s.wallSeconds !== undefined ? fmtSeconds(s.wallSeconds) : '—',
        ]
      : []),
  ]);
  const totalWall = p.stages.reduce((a, s) => a + (s.wallSeconds ?? 0), 0);

  const pkgs = Object.keys(p.packages)
    .sort()
    .map((k) => [`<code>${text(k)}</code>`, `<code>${text(p.packages[k])}</code>`]);

  return `<section id="provenance">
<h2>Provenance</h2>
${kvTable(summary)}
<h3>Tasks</h3>
${kvTable(counts)}
<h3>Stages</h3>
${table(timed ? ['Stage', 'Tasks', 'Executed', 'Cached', 'Failed', 'Wall time'] : ['Stage', 'Tasks'], stageRows)}
${timed ? `<p class="muted">Sum of stage wall times: ${text(fmtSeconds(totalWall))} (stages can overlap).</p>` : ''}
<h3>Packages</h3>
${table(['Package', 'Version'], pkgs)}
<h3>Experiment config</h3>
<pre>${escapeHtml(prettyJson(p.config))}</pre>
</section>`;
}

// ---- Verdicts: one row per claim, first on the page.

/** A verdict's CSS class: the kind of answer, not its wording (every verdict must have one). */
export const VERDICT_CLASS: Record<Verdict, string> = {
  holds: 'v-ok',
  'agrees with the paper': 'v-ok',
  violated: 'v-off',
  'steeper than the paper': 'v-off',
  'flatter than the paper': 'v-off',
  'contradicts the prediction': 'v-off',
  inconclusive: 'v-unsure',
  'pre-asymptotic': 'v-unsure',
  'out of scope': 'v-na',
  'not comparable': 'v-na',
  exploratory: 'v-na',
};

/** What a claim rests on, as the table's tag. */
const KIND_TEXT: Record<Claim['kind'], string> = {
  theorem: 'theorem', heuristic: 'heuristic (no theorem)', ours: 'our reconstruction', exploratory: 'exploratory', control: 'negative control',
};

const widthsText = (w: Claim['widths']): string =>
  `${w.here ? `${w.here[0]}–${w.here[1]}` : 'n/a'}${w.paper ? ` <span class="muted">(paper ${text(w.paper)})</span>` : ''}`;

function measuredText(m: Claim['measured']): string {
  const ok = m.filter((x): x is { slope: number; lo: number | null; hi: number | null } => x.slope !== null && Number.isFinite(x.slope));
  if (!ok.length) return 'n/a';
  const ci = (x: { lo: number | null; hi: number | null }) => (x.lo !== null && x.hi !== null ? ` [${fmtNum(x.lo, 2)}, ${fmtNum(x.hi, 2)}]` : ' [CI n/a]');
  if (ok.length === 1) return `<strong>${fmtNum(ok[0]!.slope, 2)}</strong>${ci(ok[0]!)}`;
  const by = [...ok].sort((a, b) => a.slope - b.slope);
  const lo = by[0]!;
  const hi = by[by.length - 1]!;
  // The range over groups, each end with its own interval.
  return `<strong>${fmtNum(lo.slope, 2)} … ${fmtNum(hi.slope, 2)}</strong><br><span class="muted">${ok.length} groups; ends${ci(lo)},${ci(hi)}</span>`;
}

/** The verdict table's rows, one per (claim, group): its CSV and the slope chart's data. */
export function claimData(claims: readonly Claim[]): DataRow[] {
  return claims.flatMap((c) => {
    const groups = c.measured.length ? c.measured : [{ slope: null, lo: null, hi: null }];
    return groups.map((m, i) => ({
      claim: c.claim,
      group: c.groups[i] ?? (groups.length > 1 ? String(i + 1) : ''),
      slope: m.slope,
      ci_lo: m.lo,
      ci_hi: m.hi,
      paper: c.paper,
      bound: c.bound,
      widths_here: c.widths.here ? `${c.widths.here[0]}-${c.widths.here[1]}` : null,
      widths_paper: c.widths.paper,
      verdict: c.verdict,
      why: c.why,
      paper_verdict: c.paperVerdict?.verdict ?? null,
      paper_why: c.paperVerdict?.why ?? null,
      source: c.source,
      kind: c.kind,
      regime: c.regime,
    }));
  });
}

/** Rows for slopesChart: each group's slope next to its claim's paper slope and bound. */
export function slopeRows(claims: readonly Claim[]): SlopeRow[] {
  return claims.flatMap((c) =>
    c.measured.map((m, i) => ({
      claim: c.claim,
      group: c.groups[i] ?? String(i + 1),
      slope: m.slope,
      lo: m.lo,
      hi: m.hi,
      paper: c.paperSlope,
      bound: c.boundSlope,
    })),
  );
}

const verdictCell = (j: { verdict: Verdict; why: string }): string =>
  `<span class="verdict ${VERDICT_CLASS[j.verdict]}">${text(j.verdict)}</span>${j.why ? `<br><span class="why">${text(j.why)}</span>` : ''}`;

export function verdictsHtml(claims: readonly Claim[]): string {
  const headers = ['Claim', 'Bound tested', 'Measured slope [95% CI]', 'Widths here (paper’s)', 'Against the bound', 'Against the paper'];
  const cls = ['', '', 'num', 'num', '', ''];
  const head = headers.map((h, i) => `<th scope="col"${cls[i] ? ` class="${cls[i]}"` : ''}>${text(h)}</th>`).join('');
  const trs = claims
    .map((c) => {
      const about = `${text(c.source)} · ${text(KIND_TEXT[c.kind])}`;
      const regime = c.regime ? `<br><span class="regime">Regime: ${text(c.regime)}</span>` : '';
      const paperOnly = c.boundSlope === null && c.paperVerdict === null && c.paperSlope !== null;
      const paper = c.paperVerdict ? `${c.paper ? `${text(c.paper)}<br>` : ''}${verdictCell(c.paperVerdict)}` : c.paper ? text(c.paper) : '—';
      const cells = [
        `<span class="claim">${text(c.claim)}</span><br><span class="why">${about}</span>`,
        c.bound ? text(c.bound) : '—',
        measuredText(c.measured),
        widthsText(c.widths),
        // A claim with no bound but a paper slope is judged against the paper alone.
        paperOnly ? `—${regime}` : `${verdictCell(c)}${regime}`,
        paperOnly ? `${c.paper ? `${text(c.paper)}<br>` : ''}${verdictCell(c)}` : paper,
      ];
      return `<tr>${cells.map((x, i) => `<td${cls[i] ? ` class="${cls[i]}"` : ''}>${x}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<div class="table-wrap"><table class="verdicts"><thead><tr>${head}</tr></thead>\n<tbody>\n${trs}\n</tbody></table></div>`;
}

/** A CSV download link for rows that are not a figure's. */
export function csvLink(rows: readonly DataRow[], name: string, what: string): string {
  return `<a download="${escapeHtml(name)}" href="${escapeHtml(textDataUri(toCsv(rows)))}">${text(what)} (CSV, ${rows.length} rows)</a>`;
}
