import assert from 'node:assert/strict';
import { compileToVega, renumberSvgIds } from '../../stages/page/charts/index.ts';
import { escapeHtml, toCsv } from '../../stages/page/encode.ts';
import { renderReportHtml } from '../../stages/page/html.ts';
import { claimData, figureNumbers, headlineData, slopeRows, VERDICT_CLASS } from '../../stages/page/sections.ts';
import { texInput, texSpec, texToText } from '../../stages/page/tex.ts';
import { parseCsv } from './parse-csv.ts';
import { POINTS, attachValues, decodePoints, decodeTable, detachValues, toCsv as csvFromRows, type FigureData } from '../../stages/page/figure-data.ts';
import { sampleReportInput } from './sample.ts';

/** The HTML with the contents of <script> and <style> elements removed. */
function markupOnly(html: string): string {
  return html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '<script></script>').replace(/<style\b[^>]*>[\s\S]*?<\/style>/gi, '<style></style>');
}

/** Every attribute value of every tag in the markup (outside scripts and styles). */
function attributes(html: string): { tag: string; name: string; value: string }[] {
  const out: { tag: string; name: string; value: string }[] = [];
  for (const t of markupOnly(html).matchAll(/<([a-zA-Z][\w:-]*)((?:\s+[^\s=>]+(?:="[^"]*"|='[^']*')?)*)\s*\/?>/g)) {
    for (const a of t[2].matchAll(/([^\s=>]+)(?:="([^"]*)"|='([^']*)')?/g)) out.push({ tag: t[1], name: a[1].toLowerCase(), value: a[2] ?? a[3] ?? '' });
  }
  return out;
}

/** A figure's embedded data block (figure-data.ts). */
const blockOf = (id: string): FigureData => JSON.parse(html.match(new RegExp(`<script type="application/json" id="data-fig-${id}">([\\s\\S]*?)</script>`))![1]!) as FigureData;
const csvOfBlock = (id: string): string => {
  const d = blockOf(id);
  return csvFromRows(decodeTable(d.rows), d.csvColumns);
};
const withoutNulls = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(withoutNulls) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)])) : v;
let html = '';

const unescapeAttr = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('report/html', function () {
  this.timeout(60_000);
  const input = sampleReportInput();
  // Figures on the page: the slope chart (in the verdicts) and the input's.
  const nFig = input.figures.length + 1;

  before(async () => {
    html = await renderReportHtml(input);
  });

  it('is self-contained: no external src/href/url(), no script src, no link or iframe', () => {
    const attrs = attributes(html);
    const refs = attrs.filter((a) => ['src', 'href', 'xlink:href', 'action', 'poster', 'srcset', 'data'].includes(a.name));
    assert.ok(refs.length > 0);
    for (const a of refs) {
      assert.ok(!/^\s*(https?:)?\/\//i.test(a.value), `external ${a.tag} ${a.name}=${a.value.slice(0, 80)}`);
      assert.ok(/^(#|data:)/.test(a.value), `unexpected ${a.tag} ${a.name}=${a.value.slice(0, 80)}`);
    }
    assert.equal(attrs.filter((a) => a.tag === 'script' && a.name === 'src').length, 0);
    assert.doesNotMatch(markupOnly(html), /<(link|iframe|img|object|embed)\b/i);
    assert.doesNotMatch(html.match(/<style>([\s\S]*?)<\/style>/)![1], /url\(|@import/);
    // Scripts: the two bundles (vega, vega-embed) + the client script + one JSON spec per figure.
    const opens = html.match(/<script\b/gi)!.length;
    assert.equal(opens, html.match(/<\/script>/gi)!.length);
    assert.equal(opens, 3 + nFig);
    // No fetch of remote resources from our own code; the bundles are the only other scripts.
    assert.equal((html.match(/<script type="application\/json"/g) ?? []).length, nFig);
  });

  it('embeds each figure’s data once: its CSV rows and drawn points decode to the input, no data: URI copy', () => {
    const tex = texInput(input);
    // Only the per-group table (not a figure's) is a data: URI; figures and verdicts share their blocks.
    const links = attributes(html).filter((a) => a.tag === 'a' && a.name === 'href' && a.value.startsWith('data:text/csv'));
    assert.equal(links.length, 1);
    assert.equal(decodeURIComponent(unescapeAttr(links[0]!.value).slice('data:text/csv;charset=utf-8,'.length)), toCsv(headlineData(tex.headline)));
    assert.equal((html.match(/data-csv="data-fig-slopes"/g) ?? []).length, 1, 'the verdicts CSV is the slope chart’s block');
    assert.equal(csvOfBlock('slopes'), toCsv(claimData(tex.claims!)));
    assert.ok(html.includes('Data: the verdicts CSV above.'));
    for (const fig of tex.figures) {
      const csv = csvOfBlock(fig.id);
      assert.equal(csv, toCsv(fig.data), fig.id);
      assert.doesNotMatch(csv, /\^\{/);
      assert.equal(parseCsv(csv).length - 1, fig.data.length);
    }
  });

  it('escapes text everywhere, and the embedded specs are the input specs compiled to vega, with the input points', async () => {
    assert.match(html, /<title>weakcorr — SAMPLE report with FAKE data &lt;test fixture&gt;<\/title>/);
    assert.match(html, /Escaping check: &lt;b&gt;not bold&lt;\/b&gt; &amp; &quot;quotes&quot;/);
    // The config's '</script><script>alert(1)</script>' is shown as text, never as markup.
    assert.ok(!html.includes('<script>alert(1)'));
    assert.match(html, /&lt;\/script&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    for (const fig of input.figures) {
      const d = blockOf(fig.id);
      // What vega sees: the input spec compiled (its values as the data set 'points') ...
      const { spec, values } = detachValues(JSON.parse(JSON.stringify(texSpec(fig.spec))) as object);
      assert.deepEqual(d.spec, JSON.parse(JSON.stringify(await compileToVega(spec as never))), fig.id);
      // ... and the same points (a missing field reads as null; `_row` is the page's), in that data set.
      const points = decodePoints(d.points, decodeTable(d.rows));
      assert.deepEqual(withoutNulls(points), withoutNulls(values.map(({ _row, ...v }) => v)), fig.id);
      const data = attachValues(d.spec, points).data as { name: string; values?: unknown }[];
      assert.equal(data.find((x) => x.name === POINTS)?.values, points, fig.id);
    }
  });

  it('shows the headline table, figures with captions, and the provenance', () => {
    // The per-group table folds away under the verdicts.
    assert.match(html, /<section id="headline">\n<details>\n<summary>[\s\S]*?<table class="headline">/);
    const headline = html.match(/<table class="headline">([\s\S]*?)<\/table>/)![1];
    assert.equal((headline.match(/<tr>/g) ?? []).length, 1 + input.headline.length);
    for (const h of ['Claim', 'Paper', 'Reference lines', 'Measured slope [95% CI]', 'R²', 'n points (seeds)']) assert.ok(headline.includes(h), h);
    const first = input.headline[0];
    const fmt = (v: number) => v.toFixed(2).replace('-', '\u2212');
    assert.ok(headline.includes(`<strong>${fmt(first.slope!)}</strong> [${fmt(first.ciLo!)}, ${fmt(first.ciHi!)}]`));
    assert.equal((html.match(/<figure>/g) ?? []).length, nFig);
    // One rendering per figure: the page draws it from its data block, no static copy.
    assert.equal((html.slice(0, html.indexOf('</main>')).match(/<svg /g) ?? []).length, 0);
    assert.equal((html.match(/<div class="chart" data-figure="data-fig-/g) ?? []).length, nFig);
    for (const f of input.figures) assert.ok(html.includes(escapeHtml(texToText(f.caption))), f.id);
    assert.match(html, /<code>0123456789abcdef0123456789abcdef01234567<\/code> on <code>main<\/code> <span class="dirty">/);
    for (const s of ['Executed', 'Cached (reused)', 'Failed', 'Diverged (excluded from fits)', 'vega-embed', '1 min 37 s'])
      assert.ok(html.includes(s), s);
    // Arrays of scalars stay on one line in the config dump.
    assert.ok(html.includes('&quot;widths&quot;: [8, 16, 32, 64, 128, 256, 512, 1024]'));
  });

  it('puts the verdicts first: one row per claim, the verdict word styled by kind, the rule under it', () => {
    const body = html.slice(html.indexOf('<main>'));
    assert.ok(body.indexOf('<section id="verdicts">') >= 0, 'a verdict section');
    assert.ok(body.indexOf('<section id="verdicts">') < body.indexOf('<table'), 'the verdict table is the first table');
    assert.ok(body.indexOf('<section id="verdicts">') < body.indexOf('<section', body.indexOf('<section') + 1));
    const t = html.match(/<table class="verdicts">([\s\S]*?)<\/table>/)![1];
    assert.equal((t.match(/<tr>/g) ?? []).length, 1 + input.claims!.length);
    for (const h of ['Claim', 'Bound tested', 'Measured slope [95% CI]', 'Widths here (paper’s)', 'Against the bound', 'Against the paper']) assert.ok(t.includes(escapeHtml(h)), h);
    assert.ok(t.includes('<span class="verdict v-ok">holds</span>'));
    assert.ok(t.includes('barely trained: test accuracy 9%–21% (chance 10%)'), 'the regime under the claim');
    assert.ok(t.includes('<span class="verdict v-off">steeper than the paper</span>'));
    assert.ok(t.includes('<span class="verdict v-unsure">inconclusive</span>'));
    assert.ok(t.includes('<span class="verdict v-na">not comparable</span>'));
    // Several groups: the range over them, each end with its interval; TeX names as text.
    assert.match(t, /<td><span class="claim">C⁰² decays with width<\/span><br><span class="why">Theorem 3\.1 · theorem<\/span><\/td>/);
    assert.match(t, /<strong>−0\.\d\d … −0\.\d\d<\/strong><br><span class="muted">6 groups; ends \[/);
    assert.ok(t.includes('CI wider than 1 &lt;x&gt; &amp; &quot;y&quot;'));
    assert.ok(!markupOnly(html).includes('C^{0,'), 'no raw C^{0,d} in the markup (static SVGs included)');
    assert.match(html, /<p class="rule"><span class="mark">Rule\.<\/span> FAKE rule for tests: [^<]*R² &lt; 0\.9/);
    assert.equal(VERDICT_CLASS['flatter than the paper'], 'v-off');
    assert.equal(VERDICT_CLASS.violated, 'v-off');
    assert.equal(VERDICT_CLASS['pre-asymptotic'], 'v-unsure');
    assert.equal(VERDICT_CLASS['out of scope'], 'v-na');
    assert.equal(VERDICT_CLASS['contradicts the prediction'], 'v-off');
  });

  it('numbers figures as the paper does where they reproduce one, S1, S2, … otherwise', () => {
    assert.deepEqual(
      figureNumbers([{ paperFigure: 'Fig. 4' }, {}, { paperFigure: 'Fig. 1 (it plots <Eq. 25>)' }, { paperFigure: 'Figs. 1 and 3 plot …' }, { paperFigure: 'Fig. 4' }]),
      ['4', 'S1', '1', 'S2', 'S3'],
    );
    assert.match(html, /<h3>Figure (\d|S\d+)\. /);
    const at = html.indexOf('<p class="figmap muted">');
    const heading = html.indexOf('<h2>Figures</h2>');
    assert.ok(heading >= 0 && at > heading && at < html.indexOf('<section class="figure"', heading));
  });

  it('the slope chart draws the paper slope and bound each claim carries as numbers', () => {
    const claims = input.claims!;
    const rows = slopeRows(claims);
    for (const c of claims) {
      const mine = rows.filter((r) => r.claim === c.claim);
      assert.equal(mine.length, c.measured.length, c.claim);
      for (const r of mine) {
        assert.equal(r.paper, c.paperSlope, c.claim);
        assert.equal(r.bound, c.boundSlope, c.claim);
      }
    }
    assert.ok(rows.some((r) => r.bound === -0.75), 'a bound that no label parser would get right from "≤ −3/4"');
  });

  it('gives every id in the page once (SVG clip paths are scoped per figure)', () => {
    const ids = attributes(html).filter((a) => a.name === 'id').map((a) => a.value);
    const dup = ids.filter((v, i) => ids.indexOf(v) !== i);
    assert.deepEqual(dup, []);
    // Every url(#...) reference points at an id of the page.
    const idSet = new Set(ids);
    for (const m of markupOnly(html).matchAll(/url\(#([^)]+)\)/g)) assert.ok(idSet.has(m[1]), m[1]);
    assert.equal(
      renumberSvgIds('<svg><clipPath id="clip7"/><g clip-path="url(#clip7)"/><use href="#clip7"/><a id="z"/></svg>', 'f-'),
      '<svg><clipPath id="f-1"/><g clip-path="url(#f-1)"/><use href="#f-1"/><a id="f-2"/></svg>',
    );
  });

  it('is deterministic, and static-only without scripts when interactive = false', async () => {
    assert.equal(await renderReportHtml(sampleReportInput()), html);
    const stat = await renderReportHtml(sampleReportInput({ interactive: false }));
    assert.doesNotMatch(stat, /<script/i);
    assert.equal((stat.match(/<div class="static"><svg /g) ?? []).length, nFig);
    for (const f of input.figures) assert.ok(stat.includes(`download="fig-${f.id}.csv" href="data:text/csv`), f.id);
  });
});
