// The figures as drawn in headless Chromium (file://, offline), on paper-a2-shaped FAKE reports at
// 140 runs (per-seed points) and 2,100 runs (medians across seeds, points behind a checkbox), and
// on a built report when REPORT_HTML names one: no console warning or error, one drawing per
// figure, at least three distinct labels on every axis with labels, a legend entry for each kind
// of mark drawn, the per-seed checkbox. (No named helpers inside page.$$eval: tsx's keepNames
// would reference a __name the page does not have.) Size and load time goals are in bench/report.ts.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { renderReportHtml } from '../../stages/page/html.ts';
import { paperA2ReportInput } from './paper-scale.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface Drawn {
  id: string;
  svgs: number;
  axes: string[][];
  legend: string[];
  kinds: string[];
  checkbox: boolean;
}

async function drawnFigures(browser: Browser, file: string): Promise<{ figures: Drawn[]; messages: string[]; external: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const messages: string[] = [];
  const external: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') messages.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => messages.push(String(e)));
  await page.route('**/*', (r) => {
    const url = r.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return r.continue();
    external.push(url);
    return r.abort();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelectorAll('.chart').length === document.querySelectorAll('.chart.interactive').length, undefined, { timeout: 60_000 });
  const figures = await page.$$eval('.chart', (charts) =>
    charts.map((c) => {
      const svg = c.querySelector('svg.marks');
      return {
        id: c.closest('section')?.id ?? '',
        svgs: c.querySelectorAll('svg.marks').length + c.querySelectorAll('canvas, .static').length,
        axes: svg ? [...svg.querySelectorAll('.role-axis')].map((a) => [...a.querySelectorAll('.role-axis-label text')].filter((t) => !!t.textContent && !t.closest('[opacity="0"]') && getComputedStyle(t).opacity !== '0').map((t) => t.textContent ?? '')).filter((l) => l.length > 0) : [],
        legend: svg ? [...svg.querySelectorAll('.role-legend-label text, .role-legend-title text')].map((t) => t.textContent ?? '') : [],
        // Layers with at least one drawn item (the checkbox-hidden points count as not drawn).
        kinds: svg ? [...new Set([...svg.querySelectorAll('.role-mark')].filter((g) => [...g.querySelectorAll('path, line')].some((p) => p.getAttribute('opacity') !== '0' && (p.getAttribute('d') ?? 'x') !== '')).map((g) => [...g.classList].find((k) => k.endsWith('_marks'))?.replace(/(_\d+)?_marks$/, '').replace(/^layer_\d+_/, '') ?? ''))] : [],
        checkbox: !!c.querySelector('.vega-bindings input[type="checkbox"]'),
      };
    }),
  );
  await page.close();
  return { figures, messages, external };
}

describe('report figures in a browser (headless chromium, offline)', function () {
  this.timeout(180_000);
  let browser: Browser | undefined;
  let dir = '';
  before(async function () {
    if (!existsSync(CHROMIUM)) this.skip();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
    dir = mkdtempSync(join(tmpdir(), 'weakcorr-figures-'));
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: { name: string; file: () => Promise<string>; aggregated: boolean | null }[] = [
    ...[2, 30].map((seeds) => ({
      name: `paper-a2-shaped, ${70 * seeds} runs`,
      aggregated: seeds > 5,
      file: async () => {
        const f = join(dir, `a2-${seeds}.html`);
        writeFileSync(f, await renderReportHtml(paperA2ReportInput(seeds)));
        return f;
      },
    })),
    ...(process.env.REPORT_HTML ? [{ name: `built report ${process.env.REPORT_HTML}`, aggregated: null, file: async () => resolve(process.env.REPORT_HTML!) }] : []),
  ];
  for (const c of cases) {
    it(`${c.name}: one drawing per figure, no warnings, >= 3 distinct axis labels, a legend entry per mark`, async () => {
      const { figures, messages, external } = await drawnFigures(browser!, await c.file());
      assert.deepEqual(messages, []);
      assert.deepEqual(external, []);
      assert.ok(figures.length > 0);
      for (const f of figures) {
        assert.equal(f.svgs, 1, `${f.id}: ${f.svgs} drawings`);
        for (const labels of f.axes) {
          // One label only where the data has a single value on that axis (e.g. one logged step).
          assert.ok(labels.length >= 3 || labels.length === 1, `${f.id}: an axis with ${labels.length} label(s): ${labels.join(', ')}`);
          assert.equal(new Set(labels).size, labels.length, `${f.id}: repeated axis labels ${labels.join(', ')}`);
        }
        const legend = f.legend.join(' | ');
        const need: Record<string, RegExp> = { points: /seed/, medians: /median/, band: /median/, fits: /fit/, references: /reference/i, floored: /rounding floor/ };
        if (f.id !== 'fig-slopes' && f.kinds.some((k) => k === 'fits'))
          for (const k of f.kinds) if (need[k]) assert.match(legend, need[k]!, `${f.id}: no legend entry for the ${k} drawn`);
      }
      if (c.aggregated !== null) {
        const fig4 = figures.find((f) => f.id === 'fig-fig4-mse')!;
        assert.equal(fig4.checkbox, c.aggregated, 'the per-seed checkbox exactly when seeds are aggregated');
        assert.equal(fig4.kinds.includes('medians'), c.aggregated);
        assert.equal(fig4.kinds.includes('points'), !c.aggregated, 'per-seed points hidden until asked for');
      }
    });
  }

  it('paper-a2-shaped, 2100 runs: the checkbox draws the per-seed points, and the axes stay where they were', async () => {
    const f = join(dir, 'a2-toggle.html');
    writeFileSync(f, await renderReportHtml(paperA2ReportInput(30)));
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(pathToFileURL(f).href, { waitUntil: 'load' });
      const chart = page.locator('#fig-fig4-mse .chart');
      await chart.scrollIntoViewIfNeeded();
      await page.waitForFunction(() => !!document.querySelector('#fig-fig4-mse .chart.interactive svg.marks'), undefined, { timeout: 60_000 });
      // Drawn point symbols of the per-seed layer, and every axis's tick labels.
      const state = () => page.$eval('#fig-fig4-mse svg.marks', (svg) => ({
        points: [...svg.querySelectorAll('.role-mark')].filter((g) => /(^|_)points(_\d+)?_marks$/.test([...g.classList].find((k) => k.endsWith('_marks')) ?? '')).reduce((n, g) => n + g.querySelectorAll('path').length, 0),
        axes: [...svg.querySelectorAll('.role-axis')].map((a) => [...a.querySelectorAll('.role-axis-label text')].map((t) => `${t.textContent}@${t.getAttribute('transform')}`).join(' ')),
      }));
      const before = await state();
      assert.equal(before.points, 0, 'no per-seed point is drawn before the checkbox');
      await chart.locator('.vega-bindings input[type="checkbox"]').check();
      await page.waitForFunction(() => [...document.querySelectorAll('#fig-fig4-mse svg.marks .role-mark path')].length > 2000, undefined, { timeout: 30_000 });
      const after = await state();
      assert.ok(after.points >= 2000, `${after.points} per-seed points drawn after the checkbox (2100 runs)`);
      assert.deepEqual(after.axes, before.axes, 'the axes did not move');
    } finally {
      await page.close();
    }
  });
});
