// Assemble one self-contained HTML report: it opens from disk (file://) with no network.
//
// - Every figure is rendered to a static SVG in Node and inlined, so the page reads fine with
//   scripts off. When scripts run, the inlined vega + vega-lite + vega-embed browser bundles
//   re-render each figure from its spec (tooltips; drag to pan, wheel to zoom, double-click to
//   reset) and replace the static SVG once the interactive one is ready.
// - Each figure's data is a CSV download through a data: URI (works offline, without scripts).
// - Nothing time- or host-dependent is added here: the same input gives the same bytes (the
//   caller passes `generatedAt` etc. if it wants them shown).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSvg, renumberSvgIds, timelineChart, type DataRow, type Scalar, type TimelineRow, type TopLevelSpec } from './charts/index.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One claim of the paper next to what this run measured. */
export interface HeadlineRow {
  /** The claim, e.g. 'Fig. 4: MSE_test(f, f_lin) vs width, alpha = -0.5'. */
  claim: string;
  /** The paper's value, as text (e.g. '−1.30'); null/omitted: none given. */
  paper?: string | null;
  /** The theory guide, as text (e.g. '−2 (2α − 1)'); null/omitted: none. */
  theory?: string | null;
  /** Measured slope and its 95% CI (null when undefined). */
  slope: number | null;
  ciLo: number | null;
  ciHi: number | null;
  r2: number | null;
  /** Points that entered the fit. */
  nPoints: number;
  nSeeds?: number;
  /** Points excluded (diverged, non-finite, non-positive). */
  excluded?: number;
  /** Free-text remark, e.g. the CI note or which option was used. */
  note?: string | null;
}

export interface FigureInput {
  /** Short id used for anchors and the CSV file name, e.g. 'fig1-c02'. */
  id: string;
  title: string;
  /** Plain text. Say what is data (points, fitted lines) and what is expectation (dashed lines). */
  caption: string;
  spec: TopLevelSpec;
  /** The figure's data, offered as CSV (usually the measured rows behind the points). */
  data: readonly DataRow[];
  /** CSV column order (default: keys in order of first appearance). */
  columns?: readonly string[];
}

export interface TaskCounts {
  /** Run-dependent counts: left out of a deterministic report. */
  executed?: number;
  cached?: number;
  failed?: number;
  /** Upstream tasks the report was built from. */
  total?: number;
  /** Runs that finished but diverged (excluded from fits). */
  diverged: number;
  /** Tasks skipped because an upstream task failed. */
  skipped?: number;
}

export interface StageTiming {
  stage: string;
  /** Wall-clock seconds this stage's tasks were running (a sum); absent in a deterministic report. */
  wallSeconds?: number;
  tasks?: number;
  executed?: number;
  cached?: number;
  failed?: number;
}

export interface Provenance {
  /** Experiment name, e.g. 'quick'. */
  experiment?: string;
  /** The resolved experiment config (shown as pretty JSON). */
  config: JsonValue;
  git: { commit: string; dirty: boolean; branch?: string | null };
  /** Backend, device, Node version, host, ...: shown as a key/value table. */
  runtime: Record<string, string>;
  /** Package name -> version. */
  packages: Record<string, string>;
  tasks: TaskCounts;
  stages: readonly StageTiming[];
  /** Per-task intervals for the timeline chart (optional). */
  timeline?: readonly TimelineRow[];
  /** Free-form extra lines, e.g. the command line. */
  notes?: readonly string[];
}

export interface ReportInput {
  title: string;
  subtitle?: string;
  /** Plain-text paragraphs shown under the title. */
  intro?: readonly string[];
  /** A warning shown under the title, e.g. that this is a variant with command-line overrides. */
  banner?: string;
  /** Shown verbatim (e.g. an ISO time); omitted keeps the output byte-deterministic. */
  generatedAt?: string;
  headline: readonly HeadlineRow[];
  /** Plain text under the headline table. */
  headlineNote?: string;
  figures: readonly FigureInput[];
  provenance: Provenance;
  /** Inline the vega bundles for tooltips and zoom (default true; about 0.8 MB). */
  interactive?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Escaping and encoding

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

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'figure';
}

// ---------------------------------------------------------------------------------------------
// Browser bundles

export interface BrowserBundles {
  /** Minified UMD builds: they define the globals vega, vegaLite, vegaEmbed. */
  vega: string;
  vegaLite: string;
  vegaEmbed: string;
  versions: { vega: string; 'vega-lite': string; 'vega-embed': string };
}

/** Find node_modules/<pkg> the way Node would, walking up from this file. */
function packageDir(pkg: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const cand = join(dir, 'node_modules', pkg);
    if (existsSync(join(cand, 'package.json'))) return cand;
    const up = dirname(dir);
    if (up === dir) throw new Error(`report: cannot find package '${pkg}' in any node_modules above ${dirname(fileURLToPath(import.meta.url))}`);
    dir = up;
  }
}

let bundlesCache: BrowserBundles | undefined;

/** Read the browser (UMD, minified) builds of vega, vega-lite and vega-embed from node_modules. */
export function loadBrowserBundles(): BrowserBundles {
  if (bundlesCache) return bundlesCache;
  const read = (pkg: string, file: string) => {
    const dir = packageDir(pkg);
    const src = readFileSync(join(dir, file), 'utf8');
    const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    // A literal '</script' would end the inline script early; in JS source it can only occur in
    // strings/regexes, where '<\/script' means the same. (The current builds contain none.)
    return { src: src.replace(/<\/script/gi, '<\\/script'), version };
  };
  const v = read('vega', 'build/vega.min.js');
  const l = read('vega-lite', 'build/vega-lite.min.js');
  const e = read('vega-embed', 'build/vega-embed.min.js');
  bundlesCache = {
    vega: v.src,
    vegaLite: l.src,
    vegaEmbed: e.src,
    versions: { vega: v.version, 'vega-lite': l.version, 'vega-embed': e.version },
  };
  return bundlesCache;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const MINUS = '\u2212';
function fmtNum(v: number | null | undefined, digits: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return v.toFixed(digits).replace('-', MINUS);
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return 'n/a';
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function text(s: string): string {
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

const CSS = `
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #dadce0; --accent: #1a5fb4; --warn: #a15c00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; line-height: 1.25; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 28px 0 8px; }
.subtitle, .muted { color: var(--muted); }
.banner { border: 2px solid #b45309; background: #fffbeb; color: #78350f; padding: 0.5em 0.8em; border-radius: 4px; }
nav.toc { margin: 16px 0; font-size: 14px; }
nav.toc a { margin-right: 14px; }
a { color: var(--accent); }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #f5f6f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { background: #f9f9fa; font-weight: 600; white-space: nowrap; }
table.headline td:first-child { max-width: 360px; }
figure { margin: 8px 0; }
.chart { overflow-x: auto; }
.chart svg { max-width: 100%; height: auto; }
.chart .live svg { max-width: none; }
figcaption { color: var(--muted); font-size: 14px; max-width: 900px; margin-top: 6px; }
.downloads { font-size: 14px; margin: 4px 0 0; }
.hint { font-size: 12px; color: var(--muted); }
.dirty { color: var(--warn); font-weight: 600; }
.error { color: #b00020; font-size: 14px; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: 10px; overflow: auto; max-height: 480px; font-size: 12.5px; line-height: 1.4; }
code { font-size: 13px; }
footer { margin-top: 48px; font-size: 12px; color: var(--muted); }
.vega-embed .vega-actions a { color: var(--fg); }
`;

/** Runs in the browser after the bundles: re-render each figure interactively, then swap. */
const CLIENT_JS = `
(function () {
  'use strict';
  var charts = document.querySelectorAll('.chart[data-spec]');
  if (typeof vegaEmbed !== 'function') { console.warn('report: vega-embed not available; static figures kept'); return; }
  Array.prototype.forEach.call(charts, function (el) {
    var id = el.getAttribute('data-spec');
    var spec;
    try { spec = JSON.parse(document.getElementById(id).textContent); }
    catch (e) { console.error('report: cannot read spec ' + id + ': ' + e); return; }
    var live = document.createElement('div');
    live.className = 'live';
    live.style.display = 'none';
    el.appendChild(live);
    vegaEmbed(live, spec, {
      mode: 'vega-lite',
      renderer: 'svg',
      actions: { export: true, source: false, compiled: false, editor: false },
      tooltip: true
    }).then(function () {
      var st = el.querySelector('.static');
      if (st) st.parentNode.removeChild(st);
      live.style.display = '';
      el.classList.add('interactive');
    }).catch(function (err) {
      live.parentNode.removeChild(live);
      var p = document.createElement('p');
      p.className = 'error';
      p.textContent = 'Interactive rendering failed; the static figure is shown. ' + err;
      el.appendChild(p);
      console.error('report: figure ' + id + ': ' + err);
    });
  });
})();
`;

// ---------------------------------------------------------------------------------------------
// Assembly

interface RenderedFigure {
  anchor: string;
  title: string;
  caption: string;
  svg: string;
  specId: string;
  spec: TopLevelSpec;
  csv: string;
  csvName: string;
  nRows: number;
}

async function renderFigure(f: FigureInput, anchor: string): Promise<RenderedFigure> {
  // Page-unique ids: several inlined SVGs must not share clip-path ids.
  const svg = renumberSvgIds(await renderSvg(f.spec), `${anchor}-`);
  return {
    anchor,
    title: f.title,
    caption: f.caption,
    svg,
    specId: `spec-${anchor}`,
    spec: f.spec,
    csv: toCsv(f.data, f.columns),
    csvName: `${anchor}.csv`,
    nRows: f.data.length,
  };
}

function figureHtml(f: RenderedFigure, n: number, interactive: boolean): string {
  const hint = interactive
    ? '<span class="hint"> · hover for values; drag to pan, scroll to zoom, double-click to reset</span>'
    : '';
  return `<section class="figure" id="${escapeHtml(f.anchor)}">
<h3>Figure ${n}. ${text(f.title)}</h3>
<figure>
<div class="chart"${interactive ? ` data-spec="${escapeHtml(f.specId)}"` : ''}><div class="static">${f.svg}</div></div>
<figcaption>${text(f.caption)}</figcaption>
</figure>
<p class="downloads"><a download="${escapeHtml(f.csvName)}" href="${escapeHtml(textDataUri(f.csv))}">Download data (CSV, ${f.nRows} rows)</a>${hint}</p>
${interactive ? `<script type="application/json" id="${escapeHtml(f.specId)}">${jsonForScript(f.spec)}</script>` : ''}
</section>`;
}

function headlineHtml(rows: readonly HeadlineRow[]): string {
  const headers = ['Claim', 'Paper', 'Theory guide (expected)', 'Measured slope [95% CI]', 'R²', 'n points (seeds)', 'Excluded', 'Note'];
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
  return `<table class="headline"><thead><tr>${head}</tr></thead>\n<tbody>\n${trs}\n</tbody></table>`;
}

function provenanceHtml(p: Provenance, timeline: RenderedFigure | null, n: number, interactive: boolean): string {
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
${timeline ? figureHtml(timeline, n, interactive) : ''}
<h3>Packages</h3>
${table(['Package', 'Version'], pkgs)}
<h3>Experiment config</h3>
<pre>${text(prettyJson(p.config))}</pre>
</section>`;
}

/**
 * Render the whole report to one HTML string. Figures are rendered to SVG here (async); the
 * result has no external references: no http(s) src/href, no fetches.
 */
export async function renderReportHtml(input: ReportInput): Promise<string> {
  const interactive = input.interactive ?? true;
  const used = new Set<string>();
  const anchorFor = (id: string) => {
    let a = `fig-${slug(id)}`;
    for (let i = 2; used.has(a); i++) a = `fig-${slug(id)}-${i}`;
    used.add(a);
    return a;
  };
  const figures = await Promise.all(input.figures.map((f) => renderFigure(f, anchorFor(f.id))));
  const tl = input.provenance.timeline;
  const timeline =
    tl && tl.length
      ? await renderFigure(
          {
            id: 'timeline',
            title: 'Run timeline',
            caption:
              'One bar per task, from its start to its end, on its stage’s row; colour gives the task’s status. Cached tasks take (almost) no time.',
            spec: timelineChart(tl),
            data: tl.map((r) => ({ stage: r.stage, task: r.task, start: r.start, end: r.end, status: r.status ?? 'executed' })),
          },
          anchorFor('timeline'),
        )
      : null;

  const bundles = interactive ? loadBrowserBundles() : null;
  const toc = [
    '<a href="#headline">Headline results</a>',
    '<a href="#figures">Figures</a>',
    ...figures.map((f, i) => `<a href="#${escapeHtml(f.anchor)}">Fig. ${i + 1}</a>`),
    '<a href="#provenance">Provenance</a>',
  ].join('\n');

  const parts: string[] = [];
  parts.push(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${text(input.title)}</h1>
${input.subtitle ? `<p class="subtitle">${text(input.subtitle)}</p>` : ''}
${input.banner ? `<p class="banner" id="overrides">${text(input.banner)}</p>` : ''}
${input.generatedAt ? `<p class="muted">Generated ${text(input.generatedAt)}</p>` : ''}
</header>
<nav class="toc">${toc}</nav>
${(input.intro ?? []).map((p) => `<p>${text(p)}</p>`).join('\n')}
<section id="headline">
<h2>Headline results</h2>
<p class="muted">Each row: a claim of the paper, the paper’s value and the theory guide (expectations), and the slope measured here: ordinary least squares of log value on log width over every (seed, width) point, with a 95% bootstrap CI (seeds resampled with replacement).</p>
${headlineHtml(input.headline)}
${input.headlineNote ? `<p class="muted">${text(input.headlineNote)}</p>` : ''}
</section>
<section id="figures">
<h2>Figures</h2>
${figures.map((f, i) => figureHtml(f, i + 1, interactive)).join('\n')}
</section>
${provenanceHtml(input.provenance, timeline, figures.length + 1, interactive)}
<footer>
<p>Self-contained report: it opens from disk with no network. Figures are static SVG rendered at build time${
    bundles
      ? `; with scripts on they are re-rendered interactively by the inlined vega ${text(bundles.versions.vega)}, vega-lite ${text(bundles.versions['vega-lite'])} and vega-embed ${text(bundles.versions['vega-embed'])}`
      : ''
  }.</p>
</footer>
</main>
`);
  if (bundles) {
    parts.push(`<script>${bundles.vega}</script>\n`);
    parts.push(`<script>${bundles.vegaLite}</script>\n`);
    parts.push(`<script>${bundles.vegaEmbed}</script>\n`);
    parts.push(`<script>${CLIENT_JS}</script>\n`);
  }
  parts.push('</body>\n</html>\n');
  return parts.join('');
}
