// The page's parts as HTML fragments: figures, the headline table and the provenance section.
// Every text from the input is escaped here.

import { renderSvg, renumberSvgIds, type TopLevelSpec } from './charts/index.ts';
import { escapeHtml, jsonForScript, prettyJson, textDataUri, toCsv } from './encode.ts';
import type { FigureInput, HeadlineRow, Provenance } from './types.ts';

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

export interface RenderedFigure {
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

export async function renderFigure(f: FigureInput, anchor: string): Promise<RenderedFigure> {
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

export function figureHtml(f: RenderedFigure, n: number, interactive: boolean): string {
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

export function headlineHtml(rows: readonly HeadlineRow[]): string {
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

export function provenanceHtml(p: Provenance, timeline: RenderedFigure | null, n: number, interactive: boolean): string {
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
