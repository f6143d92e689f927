// End to end: the `ci` experiment from an empty cache through every stage to the HTML report,
// then the caching promises a user relies on, then the report in headless Chromium.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { measureLayout } from '../report/layout.ts';
import { texToText } from '../../stages/page/tex.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MIRROR = process.env.WEAKCORR_DATA_MIRROR || path.resolve(REPO, '../shared/datasets');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = path.join(REPO, 'test-output');

interface Summary { executed: number; cached: number; failed: number; tasks: { id: string; state: string; key?: string }[] }

describe('e2e: the ci experiment, from an empty cache to the report', function () {
  this.timeout(600_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-e2e-'));
  const env = { ...process.env, WEAKCORR_CACHE: path.join(tmp, 'store'), WEAKCORR_DATA_DIR: path.join(tmp, 'data'), WEAKCORR_PUBLISH_ROOT: tmp, WEAKCORR_DATA_MIRROR: MIRROR, WEAKCORR_OFFLINE: '1', CI: '1' };
  const report = path.join(tmp, 'reports/ci/index.html');
  const run = (...args: string[]): Summary => {
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), 'run', '--experiment', 'ci', '--jobs', '2', '--json', ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    return JSON.parse(r.stdout) as Summary;
  };
  const executedIds = (s: Summary): string[] => s.tasks.filter((t) => t.state === 'executed').map((t) => t.id).sort();

  before(function () {
    if (!fs.existsSync(path.join(MIRROR, 'mnist'))) {
      console.log(`      skipped: no dataset mirror at ${MIRROR} (set WEAKCORR_DATA_MIRROR)`);
      this.skip();
    }
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // Each task's key in the first (local, cold) run, for the SLURM run to match.
  const localKeys = new Map<string, string>();

  it('builds every stage and a report holding every figure and the headline table', () => {
    const s = run();
    for (const t of s.tasks) if (t.key) localKeys.set(t.id, t.key);
    assert.equal(s.failed, 0);
    assert.equal(s.cached, 0);
    const stages = new Set(s.tasks.map((t) => t.id.split('@')[0]));
    assert.deepEqual([...stages].sort(), ['correlate', 'correlate-meanfield', 'fetch', 'fit', 'report', 'train-a1', 'train-a2', 'train-a2-ntk', 'train-meanfield', 'train-teacher']);
    const html = fs.readFileSync(report, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<\/html>\s*$/);
    // Every protocol in the registry contributes: A.2, A.2 in the NTK parameterization, A.1, NTK inferiority, Corollary 4.0.1, the mean-field control.
    for (const id of ['a2ntk-mse', 'fig1-c02', 'fig3-c03', 'fig2-lossgap', 'fig4-mse', 'dynamics', 'estimators', 'eq24-test', 'cor-steps', 'cor-teacher-steps', 'cor-teacher-sup', 'mf-c02', 'mf-eq24'])
      assert.ok(html.includes(`<section class="figure" id="fig-${id}">`), `figure ${id} missing`);
    const verdictsAt = html.indexOf('<section id="verdicts">');
    assert.ok(verdictsAt >= 0 && verdictsAt < html.indexOf('<section class="figure"'), 'the verdict table comes first');
    assert.match(html, /Fig\. 4 \(A\.2\): MSE_test\(f, f_lin\) vs width, α = 0/);
    assert.ok(html.includes(texToText('C^{0,2} vs width (exact; cf. paper Fig. 1')), 'A.1 headline row');
    assert.doesNotMatch(html.replace(/<script[\s\S]*?<\/script>/g, ''), /C\^\{0,2\}/, 'TeX names render as text');
    // Each figure drawn once, in the browser, from its one embedded data block (no static SVG twice).
    assert.ok((html.match(/data-figure=/g) ?? []).length >= 8, 'figures with their data block');
    assert.ok((html.match(/<script[^>]+id="data-fig-/g) ?? []).length >= 8, 'one embedded data block per figure');
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)="https?:/, 'no network resources');
  });

  it('a second run executes nothing', () => {
    const s = run();
    assert.equal(s.executed, 0);
    assert.equal(s.failed, 0);
  });

  it('--force train-a2 re-runs train-a2 only: identical result bytes keep fit and report cached (early cutoff)', () => {
    const canonical = fs.readFileSync(report);
    const s = run('--force', 'train-a2');
    const ids = executedIds(s);
    assert.ok(ids.length > 0);
    for (const id of ids) assert.match(id, /^train-a2@/, `${id} should have stayed cached`);
    assert.deepEqual(fs.readFileSync(report), canonical);
  });

  it('--set makes a variant: it re-runs only the report, publishes beside the canonical one with an overrides banner, and never touches it', () => {
    const canonical = fs.readFileSync(report);
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), 'run', '--experiment', 'ci', '--set', 'report.title=Another title', '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Summary & { experiment: string; published: string[] };
    assert.deepEqual(executedIds(s), ['report']);
    assert.match(s.experiment, /^ci\+[0-9a-f]{8}$/);
    const variantReport = path.join(tmp, 'reports', s.experiment, 'index.html');
    assert.deepEqual(s.published, [variantReport]);
    assert.match(r.stderr, new RegExp(`published: .*reports/ci\\+[0-9a-f]{8}/index\\.html`));
    const html = fs.readFileSync(variantReport, 'utf8');
    assert.match(html, /<title>Another title<\/title>/);
    assert.match(html, /<p class="banner" id="overrides">Overrides: this is variant &#39;ci\+[0-9a-f]{8}&#39; of experiment &#39;ci&#39;, with values set on the command line: report\.title = &quot;Another title&quot;/);
    assert.deepEqual(fs.readFileSync(report), canonical, 'the canonical report is only written by the unmodified experiment');
    assert.doesNotMatch(canonical.toString(), /class="banner"/);
    const st = spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), 'status', '--experiment', 'ci', '--json'], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(JSON.parse(st.stdout).counts.cached, s.tasks.length, 'the unmodified experiment is still all cached');
  });

  it('a rebuilt report is byte-identical: no times, hosts or run-dependent counts in it', () => {
    const before = fs.readFileSync(report);
    const s = run('--force', 'report');
    assert.deepEqual(executedIds(s), ['report']);
    assert.deepEqual(fs.readFileSync(report), before);
  });

  it('adding one width runs only the new tasks and their downstream fit and report', () => {
    const s = run('--set', 'a1.widths=[8,16,32,64,128]');
    const ids = executedIds(s);
    assert.ok(ids.includes('fit') && ids.includes('report'));
    const others = ids.filter((id) => id !== 'fit' && id !== 'report');
    assert.ok(others.length > 0);
    for (const id of others) assert.match(id, /^(train-a1|correlate)@.*,w128,/, `${id} should not have re-run`);
    assert.equal(others.length, 2 * 2 * 1 * 3 * 2, 'datasets x activations x depths x seeds, for train-a1 and correlate');
  });

  it('the whole experiment through the SLURM executor (a real single-node cluster): the same task keys, a byte-identical report, and a second run submits nothing', function () {
    const sinfo = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
    if (sinfo.status !== 0 || !/idle|mix|alloc/.test(sinfo.stdout)) {
      console.log('      skipped: no SLURM cluster answers (bash .ci/slurm.sh up starts one)');
      this.skip();
    }
    this.timeout(1_200_000);
    // Every ci task as a SLURM job into a fresh store, compared with the first (local) run above.
    const other = path.join(tmp, 'slurm');
    const senv = { ...env, WEAKCORR_CACHE: path.join(other, 'store'), WEAKCORR_PUBLISH_ROOT: other };
    const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO, 'bin/weakcorr.js'), ...args, '--experiment', 'ci', '--executor', 'slurm', '--json'], { env: senv, encoding: 'utf8', maxBuffer: 64 << 20 });
    const r = cli('run');
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const s = JSON.parse(r.stdout) as Summary & { experiment: string };
    assert.equal(s.experiment, 'ci');
    assert.equal(s.executed, localKeys.size);
    assert.deepEqual(new Map(s.tasks.map((t) => [t.id, t.key])), localKeys);
    assert.deepEqual(fs.readFileSync(path.join(other, 'reports/ci/index.html')), fs.readFileSync(report));
    const again = JSON.parse(cli('run').stdout) as Summary;
    assert.equal(again.executed, 0, 'a second run submits nothing');
    assert.equal(fs.readdirSync(path.join(other, 'store/slurm/logs')).length, localKeys.size, 'one job per task');
  });

  it('opens from file:// in headless Chromium with no console errors, every figure rendered', async function () {
    if (!fs.existsSync(CHROMIUM)) {
      console.log(`      skipped: no chromium at ${CHROMIUM} (apt-get install chromium)`);
      this.skip();
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
      const errors: string[] = [];
      const external: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.route('**/*', (route) => {
        if (route.request().url().startsWith('file:')) return route.continue();
        external.push(route.request().url());
        return route.abort();
      });
      await page.goto(`file://${report}`);
      await page.waitForLoadState('load');
      // Figures off screen are drawn while the page is idle after load (client.ts): wait for all.
      await page.waitForFunction(() => document.querySelectorAll('.chart').length === document.querySelectorAll('.chart.interactive').length, undefined, { timeout: 60_000 });
      const figures = await page.$$eval('figure', (els) => els.map((el) => el.querySelectorAll('svg path, svg .mark-symbol, canvas').length));
      assert.ok(figures.length >= 7, `${figures.length} figures`);
      figures.forEach((marks, i) => assert.ok(marks > 0, `figure ${i + 1} rendered no marks`));
      assert.deepEqual(errors, []);
      assert.deepEqual(external, []);
      fs.mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: path.join(OUT, 'e2e-report.png'), fullPage: true });
      await page.close();
      // The real report's layout (not only the fixture's): at a desktop and a narrow width.
      const charts = (fs.readFileSync(report, 'utf8').match(/<div class="chart" data-figure=/g) ?? []).length;
      for (const width of [1400, 800]) {
        const p = await browser.newPage({ viewport: { width, height: 900 } });
        await p.goto(`file://${report}`);
        const layout = await measureLayout(p, charts);
        await p.screenshot({ path: path.join(OUT, `e2e-report-${width}px.png`), fullPage: true });
        await p.close();
        assert.ok(layout.verdictsFirst, `${width} px: the verdict table is the first section and table`);
        // Corollary 4.0.1 adds one row per A.2 alpha and three teacher rows (sup, per step, plateau);
        // the mean-field control a kernel-drift row and a dose-response row over gamma; A.2 in the NTK
        // parameterization one row per beta (ci: one; 17 rows in all, counted 2026-12-06).
        assert.ok(layout.rows >= 5 && layout.rows <= 17, `${width} px: ${layout.rows} verdict rows`);
        assert.deepEqual(layout.problems, [], `${width} px`);
        assert.equal(layout.pageScroll, 0, `${width} px: the page scrolls sideways`);
        assert.equal(layout.raw, false, `${width} px: raw TeX markup (^{) in the page text`);
      }
    } finally {
      await browser.close();
    }
  });
});
