// Assemble one self-contained HTML report: it opens from disk (file://) with no network.
//
// - One rendering per figure. Each figure's data is embedded once (figure-data.ts: its spec,
//   compiled to vega here, without values, the points it draws, the rows of its CSV); the inlined
//   vega + vega-embed bundles draw it as SVG (tooltips; drag to pan, wheel to zoom, double-click
//   to reset): figures on screen first, the others one at a time while the browser is idle, and
//   any left when a print starts (client/client.ts). Its CSV download is written from the same
//   block on click (a blob: URL, offline).
//   Printing shows the drawn SVG. A static SVG as well would double the page (the data drawn
//   twice) for readers with scripts off only; `interactive: false` builds that page instead: SVG
//   rendered here and CSV as data: URIs, with no script.
// - Nothing time- or host-dependent is added here: the same input gives the same bytes (the
//   caller passes `generatedAt` etc. if it wants them shown).

import { clientScript, loadBrowserBundles, reportCss } from './assets.ts';
import { slopesChart } from './charts/index.ts';
import { escapeHtml } from './encode.ts';
import { claimData, csvLink, figureHtml, figureNumbers, headlineData, headlineHtml, provenanceHtml, renderFigure, slopeRows, text, verdictsHtml } from './sections.ts';
import { texInput } from './tex.ts';
import type { ReportInput } from './types.ts';

export type * from './types.ts';

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'figure';
}

/**
 * Render the whole report to one HTML string. Figures are rendered to SVG here (async); the
 * result has no external references: no http(s) src/href, no fetches.
 */
export async function renderReportHtml(raw: ReportInput): Promise<string> {
  const input = texInput(raw);
  const interactive = input.interactive ?? true;
  const used = new Set<string>();
  const anchorFor = (id: string) => {
    let a = `fig-${slug(id)}`;
    for (let i = 2; used.has(a); i++) a = `fig-${slug(id)}-${i}`;
    used.add(a);
    return a;
  };
  const claims = input.claims ?? [];
  // The slope chart comes first among the anchors: it sits in the verdicts, above every figure.
  const slopes = claims.some((c) => c.measured.some((m) => m.slope !== null))
    ? await renderFigure(
        {
          id: 'slopes',
          title: 'Measured slopes next to the paper’s and the bounds',
          caption:
            'Per claim: one point per fitted group (the slope measured here) with its 95% interval as a line; the black tick is the paper’s slope, the dashed red tick the theorem’s bound (upper bound on the slope unless the claim’s bound says otherwise). Where a claim has several groups they are stacked within its row.',
          spec: slopesChart({ rows: slopeRows(claims) }),
          data: claimData(claims),
        },
        anchorFor('slopes'),
        interactive,
      )
    : null;
  const figures = await Promise.all(input.figures.map((f) => renderFigure(f, anchorFor(f.id), interactive)));

  const numbers = figureNumbers(input.figures);
  const bundles = interactive ? loadBrowserBundles() : null;
  const toc = [
    '<a href="#verdicts">Verdicts</a>',
    '<a href="#headline">Per-group fits</a>',
    '<a href="#figures">Figures</a>',
    ...figures.map((f, i) => `<a href="#${escapeHtml(f.anchor)}">Fig. ${numbers[i]}</a>`),
    '<a href="#provenance">Provenance</a>',
  ].join('\n');

  const parts: string[] = [];
  parts.push(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text(input.title)}</title>
<style>
${reportCss()}</style>
</head>
<body>
<main>
<header>
<h1>${text(input.title)}</h1>
${input.subtitle ? `<p class="subtitle">${text(input.subtitle)}</p>` : ''}
${input.banner ? `<p class="banner" id="overrides">${text(input.banner)}</p>` : ''}
${input.generatedAt ? `<p class="muted">Generated ${escapeHtml(input.generatedAt)}</p>` : ''}
</header>
<section id="verdicts">
<h2>Does each claim hold here?</h2>
${
  claims.length
    ? `${input.verdictIntro ? `<p class="lead">${text(input.verdictIntro)} Rules, premises and deviations from the paper: <a href="../../docs/science.md">docs/science.md</a> in the repository.</p>` : ''}
${verdictsHtml(claims)}
${input.verdictRule ? `<p class="rule"><span class="mark">Rule.</span> ${text(input.verdictRule)}</p>` : ''}
<p class="downloads">${slopes?.json ? `<a download="verdicts.csv" href="#" data-csv="${escapeHtml(slopes.dataId)}">Download the verdicts (CSV, ${slopes.nRows} rows)</a>` : csvLink(claimData(claims), 'verdicts.csv', 'Download the verdicts')}</p>
${slopes ? figureHtml(slopes, 'Slope comparison: ', 'Data: the verdicts CSV above.') : ''}`
    : '<p class="muted">No protocol states claims yet: see the per-group fits below.</p>'
}
</section>
<nav class="toc">${toc}</nav>
${(input.intro ?? []).map((p) => `<p>${text(p)}</p>`).join('\n')}
<section id="headline">
<details>
<summary><h2>Per-group fits <span class="muted">(${input.headline.length} rows: open for the table)</span></h2></summary>
<p class="muted">Each row: one fitted group, the paper’s value and the theory guide (expectations), and the slope measured here: ordinary least squares of log value on log width over every (seed, width) point, with its 95% interval.</p>
${headlineHtml(input.headline)}
${input.headlineNote ? `<p class="muted">${text(input.headlineNote)}</p>` : ''}
</details>
<p class="downloads">${csvLink(headlineData(input.headline), 'per-group-fits.csv', 'Download the per-group fits')}</p>
</section>
<section id="figures">
<h2>Figures</h2>
<p class="figmap muted">A figure that reproduces one of the paper's carries the paper's number (its title and caption say how it differs); S1, S2, … are supplementary.</p>
${figures.map((f, i) => figureHtml(f, numbers[i]!)).join('\n')}
</section>
${provenanceHtml(input.provenance)}
<footer>
<p>Self-contained report: it opens from disk with no network. ${
    bundles
      ? `Each figure's data is embedded once, with its spec compiled by vega-lite ${escapeHtml(bundles.versions['vega-lite'])} when the page was built; the inlined vega ${escapeHtml(bundles.versions.vega)} and vega-embed ${escapeHtml(bundles.versions['vega-embed'])} draw it as SVG as it comes into view, and the rest soon after the page loads (all of them before a print), and the CSV downloads are written from the same data`
      : 'Figures are static SVG rendered at build time'
  }.</p>
</footer>
</main>
`);
  if (bundles) {
    parts.push(`<script>${bundles.vega}</script>\n`);
    parts.push(`<script>${bundles.vegaEmbed}</script>\n`);
    parts.push(`<script>${await clientScript()}</script>\n`);
  }
  parts.push('</body>\n</html>\n');
  return parts.join('');
}
