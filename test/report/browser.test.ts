// Opens a sample report (FAKE data) from file:// in headless Debian chromium, with the network
// unreachable by construction (every non-file request is aborted and counted), and checks that
// every figure re-rendered interactively without console errors. Screenshots go to test-output/.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { toCsv } from '../../stages/page/encode.ts';
import { renderReportHtml } from '../../stages/page/html.ts';
import { measureLayout } from './layout.ts';
import { sampleReportInput } from './sample.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = join(process.cwd(), 'test-output');

describe('report: in a browser (headless chromium, file://, offline)', function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let dir = '';

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`      skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
      this.skip();
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'weakcorr-report-'));
    mkdirSync(OUT, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const interactive of [true, false]) {
    it(`renders every figure with no console errors (${interactive ? 'interactive' : 'static only'})`, async () => {
      const input = sampleReportInput({ interactive });
      const html = await renderReportHtml(input);
      const file = join(dir, `report-${interactive ? 'interactive' : 'static'}.html`);
      writeFileSync(file, html);
      writeFileSync(join(OUT, `report-${interactive ? 'interactive' : 'static'}.html`), html);

      const page = await browser!.newPage({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
      const errors: string[] = [];
      const external: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
        external.push(url);
        return route.abort();
      });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

      const nFigures = input.figures.length + 1; // + the slope chart
      if (interactive) {
        await page.waitForFunction((n) => document.querySelectorAll('.chart.interactive').length === n, nFigures, {
          timeout: 30_000,
        });
      }
      const figures = await page.$$eval('.chart', (els) =>
        els.map((el) => {
          const svg = el.querySelector('svg');
          return {
            interactive: el.classList.contains('interactive'),
            hasStatic: !!el.querySelector('.static'),
            svg: !!svg || !!el.querySelector('canvas'),
            marks: svg ? svg.querySelectorAll('.role-mark path, .role-mark line, .role-mark text, .role-mark rect').length : 0,
            width: svg ? svg.getBoundingClientRect().width : 0,
          };
        }),
      );
      assert.equal(figures.length, nFigures);
      for (const [i, f] of figures.entries()) {
        assert.ok(f.svg, `figure ${i + 1} has no svg/canvas`);
        assert.ok(f.marks > 0, `figure ${i + 1} has no marks`);
        assert.ok(f.width > 100, `figure ${i + 1} is ${f.width}px wide`);
        assert.equal(f.interactive, interactive, `figure ${i + 1} interactive=${f.interactive}`);
        assert.equal(f.hasStatic, !interactive, `figure ${i + 1}: static SVG ${f.hasStatic ? 'kept' : 'gone'}`);
      }
      if (interactive) {
        // Tooltips: hovering a point of the first figure shows the vega-tooltip box.
        const point = await page.$('#fig-fig1-c02 .points_marks path');
        assert.ok(point, 'no point mark in the interactive first figure');
        await point.hover({ force: true });
        await page.waitForSelector('#vg-tooltip-element.visible', { timeout: 5_000 });
        const tip = await page.textContent('#vg-tooltip-element');
        assert.match(tip ?? '', /seed/);
      }
      // The CSV link downloads the figure's data, offline.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#fig-estimators .downloads a[download]')]);
      assert.equal(download.suggestedFilename(), 'fig-estimators.csv');
      const csvPath = await download.path();
      assert.equal(readFileSync(csvPath, 'utf8'), toCsv(input.figures.find((f) => f.id === 'estimators')!.data));
      // The escaped text stays text.
      assert.equal(await page.$$eval('header h1 b, main > p b', (e) => e.length), 0);
      assert.deepEqual(errors, []);
      assert.deepEqual(external, []);
      await page.screenshot({ path: join(OUT, `report-${interactive ? 'interactive' : 'static'}.png`), fullPage: true });
      await page.close();
    });
  }

  // Print: the print stylesheet on an A4 column (190 mm = 718 px), the folded tables opened by
  // the page's beforeprint handler, and a PDF in test-output/.
  it('prints: no navigation or hints, folded tables open, figures and tables inside the A4 column', async () => {
    const html = await renderReportHtml(sampleReportInput());
    const file = join(dir, 'print.html');
    writeFileSync(file, html);
    const page = await browser!.newPage({ viewport: { width: 718, height: 1000 } });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForFunction((n) => document.querySelectorAll('.chart.interactive').length === n, sampleReportInput().figures.length + 1, { timeout: 30_000 });
    await page.emulateMedia({ media: 'print' });
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    const printed = await page.evaluate(() => {
      // (No named helpers in here: see the layout test.)
      const col = document.querySelector('main')!.getBoundingClientRect();
      const wide: string[] = [];
      document.querySelectorAll('.chart svg, table').forEach((e) => {
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.right > col.right + 1) wide.push(`${e.tagName.toLowerCase()}.${(e as Element).getAttribute('class') ?? ''} ${e.closest('section')?.id ?? ''} ${Math.round(r.right)} > ${Math.round(col.right)}`);
      });
      return {
        nav: [...document.querySelectorAll('nav.toc')].filter((e) => getComputedStyle(e).display !== 'none').length,
        hints: [...document.querySelectorAll('.hint, .downloads')].filter((e) => getComputedStyle(e).display !== 'none').length,
        closed: [...document.querySelectorAll('details')].filter((d) => !d.closest('.vega-embed') && !(d as HTMLDetailsElement).open).length,
        details: [...document.querySelectorAll('details')].filter((d) => !d.closest('.vega-embed')).length,
        // vega-embed's actions menu is a <details> too: it must stay out of print.
        menus: [...document.querySelectorAll('.vega-embed details')].filter((d) => (d as HTMLElement).getBoundingClientRect().height > 0).length,
        foldedRowsVisible: [...document.querySelectorAll('details table tbody tr')].filter((r) => r.getBoundingClientRect().height > 0).length,
        wide,
        pageScroll: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      };
    });
    await page.screenshot({ path: join(OUT, 'report-print.png'), fullPage: true });
    const pdf = await page.pdf({ path: join(OUT, 'report-print.pdf'), format: 'A4', margin: { top: '10mm', bottom: '10mm', left: '10mm', right: '10mm' } });
    await page.close();
    assert.equal(printed.nav, 0, 'the table of contents is hidden in print');
    assert.equal(printed.hints, 0, 'hints and download links are hidden in print');
    assert.ok(printed.details > 0, 'the sample report has a folded table');
    assert.equal(printed.closed, 0, 'every folded table is open in print');
    assert.equal(printed.menus, 0, "vega-embed's actions menus are hidden in print");
    assert.ok(printed.foldedRowsVisible > 0, 'the folded table rows are laid out');
    assert.deepEqual(printed.wide, []);
    assert.equal(printed.pageScroll, 0);
    assert.ok(pdf.subarray(0, 5).toString() === '%PDF-' && (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length >= 2, 'a PDF of several pages');
  });

  // Figures off screen are drawn while the page is idle; a print that comes first must draw them
  // before the page is printed, i.e. within beforeprint's own task (vega's chain is promises only).
  it('draws the figures on screen first, and every other one when a print starts, before the next task', async () => {
    const html = await renderReportHtml(sampleReportInput());
    const file = join(dir, 'lazy.html');
    writeFileSync(file, html);
    const total = sampleReportInput().figures.length + 1; // + the slope chart
    // A short screen (figures within one screen of it are drawn too) on a page that is never idle:
    // only the figures on or near the screen are drawn.
    const page = await browser!.newPage({ viewport: { width: 1000, height: 200 } });
    await page.addInitScript('window.requestIdleCallback = () => 0;');
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // Scrolled to, the first figure is drawn (and those within a screen of it); not the others.
    await page.evaluate(() => document.querySelector('.chart')!.scrollIntoView());
    await page.waitForFunction(() => document.querySelector('.chart')!.classList.contains('interactive'), undefined, { timeout: 30_000 });
    await page.waitForTimeout(500);
    const before = await page.evaluate(() => document.querySelectorAll('.chart.interactive').length);
    assert.ok(before < total, `${before} of ${total} figures drawn before a print`);
    const atNextTask = await page.evaluate(() => new Promise<number>((resolve) => {
      setTimeout(() => resolve(document.querySelectorAll('.chart.interactive').length), 0);
      window.dispatchEvent(new Event('beforeprint'));
    }));
    await page.close();
    assert.equal(atNextTask, total, 'every figure drawn by the time the page could be printed');
    // A real print (to PDF) fires beforeprint.
    const printing = await browser!.newPage({ viewport: { width: 1000, height: 200 } });
    await printing.addInitScript('window.requestIdleCallback = () => 0;');
    await printing.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await printing.pdf({ format: 'A4' });
    assert.equal(await printing.evaluate(() => document.querySelectorAll('.chart.interactive').length), total, 'printed to PDF: every figure drawn');
    await printing.close();
  });

  // Layout at a desktop and a narrow width: verdicts first, nothing overflows, no sideways scroll.
  for (const width of [1400, 800]) {
    it(`lays out at ${width} px: verdicts first, no text overflow, no horizontal scroll`, async () => {
      const html = await renderReportHtml(sampleReportInput());
      const file = join(dir, `layout-${width}.html`);
      writeFileSync(file, html);
      const page = await browser!.newPage({ viewport: { width, height: 900 } });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      const layout = await measureLayout(page, sampleReportInput().figures.length + 1); // + the slope chart
      const shot = join(OUT, `report-${width}px.png`);
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`      screenshot: ${shot}`);
      await page.close();
      assert.ok(layout.verdictsFirst, 'the verdict table is the first section and table');
      assert.equal(layout.rows, sampleReportInput().claims!.length);
      assert.ok(layout.rows <= 10);
      assert.deepEqual(layout.problems, []);
      assert.equal(layout.pageScroll, 0, 'the page scrolls sideways');
      assert.equal(layout.raw, false, 'raw TeX markup (^{) in the page text');
    });
  }
});
