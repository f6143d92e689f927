// The report's size and load time at paper scale (issue 24 item 3, issue 23 item 2). Goals: the
// paper-a2-shaped report of 7,000 runs at most 3 MB and interactive (every figure drawn) in under
// 2 s in headless Chromium; a quick-sized report (REPORT_HTML, e.g. reports/quick/index.html) at
// most 1.5 MB and loaded in under 1 s (the load event, with the figures on the first screen drawn;
// the page draws the others while idle after load: "all figures drawn" says when it is done).
//
// Inputs are synthetic (test/report/paper-scale.ts: 140 / 2,100 / 7,000 runs), rendered by this
// checkout and, with BENCH_REPORT_BASE=<another checkout>, by that one too; loads alternate
// between the two so that machine load hits both alike. Medians over BENCH_REPS loads.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import type { ReportInput } from '../stages/page/types.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Navigation start to: the load event; the first screen ready (load event over, and every `.chart`
 * on the first screen drawn: `.chart.interactive`); every `.chart` drawn (those off screen are drawn
 * while the browser is idle after load, client/client.ts).
 */
export async function loadTimes(browser: Browser, file: string): Promise<{ loadMs: number; firstScreenMs: number; drawnMs: number; warnings: number }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  let warnings = 0;
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') warnings++;
  });
  await page.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : r.abort()));
  // Stamped in the page (polling from here would add its interval): when the first screen's
  // figures are drawn, and when all are.
  // A string, not a function: tsx's helpers (__name) do not exist in the page.
  await page.addInitScript(`(() => {
    const check = () => {
      const charts = [...document.querySelectorAll('.chart')];
      if (document.readyState !== 'complete' || charts.length === 0) return;
      const drawn = (c) => c.classList.contains('interactive');
      if (window.__firstScreen === undefined && charts.filter((c) => c.getBoundingClientRect().top < innerHeight).every(drawn)) window.__firstScreen = performance.now();
      if (window.__allDrawn === undefined && charts.every(drawn)) window.__allDrawn = performance.now();
    };
    new MutationObserver(check).observe(document, { subtree: true, attributes: true, attributeFilter: ['class'] });
    addEventListener('load', () => setTimeout(check, 0));
  })();`);
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForFunction(() => (window as unknown as { __allDrawn?: number }).__allDrawn !== undefined, undefined, { timeout: 120_000, polling: 50 });
  const t = await page.evaluate(() => {
    const w = window as unknown as { __firstScreen: number; __allDrawn: number };
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return { loadMs: nav.loadEventEnd, firstScreenMs: Math.max(w.__firstScreen, nav.loadEventEnd), drawnMs: w.__allDrawn };
  });
  await page.close();
  return { ...t, warnings };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

type Render = (input: ReportInput) => Promise<string>;
type Sample = (seeds: number) => ReportInput;

async function sideOf(root: string): Promise<{ render: Render; sample: Sample }> {
  const html = (await import(pathToFileURL(join(root, 'stages/page/html.ts')).href)) as { renderReportHtml: Render };
  const scale = (await import(pathToFileURL(join(root, 'test/report/paper-scale.ts')).href)) as { paperA2ReportInput: Sample };
  return { render: html.renderReportHtml, sample: scale.paperA2ReportInput };
}

export async function benchReport(): Promise<string[]> {
  if (!existsSync(CHROMIUM)) return [`skipped: no chromium at ${CHROMIUM}`];
  const reps = Number(process.env.BENCH_REPS ?? 5);
  const sides: [string, { render: Render; sample: Sample }][] = [['this checkout', await sideOf(resolve('.'))]];
  if (process.env.BENCH_REPORT_BASE) sides.push([`base ${process.env.BENCH_REPORT_BASE}`, await sideOf(resolve(process.env.BENCH_REPORT_BASE))]);
  const dir = mkdtempSync(join(tmpdir(), 'weakcorr-bench-report-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  const out: string[] = [];
  try {
    const cases: { name: string; files: { side: string; file: string }[] }[] = [];
    if (process.env.REPORT_HTML) cases.push({ name: `REPORT_HTML ${process.env.REPORT_HTML}`, files: [{ side: 'as built', file: resolve(process.env.REPORT_HTML) }] });
    for (const seeds of [2, 30, 100]) {
      const files: { side: string; file: string }[] = [];
      for (const [i, [side, s]] of sides.entries()) {
        const file = join(dir, `a2-${seeds}-${i}.html`);
        writeFileSync(file, await s.render(s.sample(seeds)));
        files.push({ side, file });
      }
      cases.push({ name: `paper-a2-shaped, ${5 * 14 * seeds} runs`, files });
    }
    out.push(`| report | side | size (MB) | load event (ms, median, range) | first screen drawn (ms, median, range) | all figures drawn (ms, median, range) | console warnings |`);
    out.push(`|---|---|---|---|---|---|---|`);
    for (const c of cases) {
      const t = c.files.map(() => ({ load: [] as number[], first: [] as number[], drawn: [] as number[], warnings: 0 }));
      for (let r = 0; r < reps; r++)
        for (const [i, f] of c.files.entries()) {
          const m = await loadTimes(browser, f.file);
          t[i]!.load.push(m.loadMs);
          t[i]!.first.push(m.firstScreenMs);
          t[i]!.drawn.push(m.drawnMs);
          t[i]!.warnings = m.warnings;
        }
      for (const [i, f] of c.files.entries())
        out.push(`| ${c.name} | ${f.side} | ${(statSync(f.file).size / 1e6).toFixed(2)} | ${median(t[i]!.load).toFixed(0)} (${spread(t[i]!.load)}) | ${median(t[i]!.first).toFixed(0)} (${spread(t[i]!.first)}) | ${median(t[i]!.drawn).toFixed(0)} (${spread(t[i]!.drawn)}) | ${t[i]!.warnings} |`);
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
