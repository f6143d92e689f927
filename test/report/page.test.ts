// The page's assets are real files, checked as what they are: the stylesheet by esbuild's CSS
// parser, the client script by TypeScript (browser types only) and esbuild, and both inlined.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { transform } from 'esbuild';
import ts from 'typescript';
import { codeFingerprint } from '../../pipeline/engine/fingerprint.ts';
import { clientScript, compileClient, inlineScript, loadBrowserBundles, reportCss } from '../../stages/page/assets.ts';
import { renderReportHtml } from '../../stages/page/html.ts';
import { sampleReportInput } from './sample.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGE = fileURLToPath(new URL('../../stages/page/client/', import.meta.url));

/** esbuild's messages for a stylesheet: it recovers from bad CSS with warnings, so both count. */
async function cssProblems(css: string): Promise<string[]> {
  try {
    const r = await transform(css, { loader: 'css', logLevel: 'silent' });
    return r.warnings.map((w) => w.text);
  } catch (e) {
    return ((e as { errors?: { text: string }[] }).errors ?? [{ text: String(e) }]).map((m) => m.text);
  }
}

describe('report/page assets', function () {
  this.timeout(60_000);
  let html = '';
  let stat = '';

  before(async () => {
    html = await renderReportHtml(sampleReportInput());
    stat = await renderReportHtml(sampleReportInput({ interactive: false }));
  });

  it('the stylesheet parses as CSS without a warning, and the check catches broken CSS', async () => {
    assert.deepEqual(await cssProblems(reportCss()), []);
    assert.notDeepEqual(await cssProblems('main { color: red'), []);
    assert.notDeepEqual(await cssProblems('main { color: red; } }'), []);
  });

  it('the stylesheet is inlined as written, with and without scripts', () => {
    for (const page of [html, stat]) assert.equal(page.match(/<style>\n([\s\S]*?)<\/style>/)?.[1], reportCss());
  });

  it('the client script type-checks against the browser alone (DOM types, no Node types)', () => {
    const config = ts.getParsedCommandLineOfConfigFile(`${PAGE}tsconfig.json`, {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    })!;
    assert.deepEqual(config.fileNames.map((f) => f.slice(PAGE.length)), ['client.ts']);
    const program = ts.createProgram(config.fileNames, config.options);
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(problems, []);
  });

  it('the client script compiles to one self-running script, deterministically, and is inlined last', async () => {
    const js = await clientScript();
    new Script(js); // parses as a classic script: no import/export, no types left
    assert.match(js, /^"use strict";\n\(\(\) => \{/);
    assert.doesNotMatch(js, /^\s*(import|export)\b|: VisualizationSpec|declare /m);
    assert.ok(js.includes('vegaEmbed') && js.includes('.chart[data-figure]'));
    assert.equal(await compileClient(), js, 'a second compilation gives the same bytes');
    assert.ok(html.endsWith(`<script>${js}</script>\n</body>\n</html>\n`));
    assert.ok(!stat.includes(js));
  });

  it('inlines the browser builds that module resolution finds, without ending the script early; no vega-lite (figures are compiled at build)', () => {
    const b = loadBrowserBundles();
    for (const [pkg, src] of [['vega', b.vega], ['vega-embed', b.vegaEmbed]] as const) {
      const manifest = JSON.parse(readFileSync(`${ROOT}node_modules/${pkg}/package.json`, 'utf8')) as { version: string };
      assert.equal(b.versions[pkg], manifest.version, pkg);
      assert.ok(src.length > 10_000, pkg);
      assert.doesNotMatch(src, /<\/script/i, pkg);
      assert.ok(html.includes(`<script>${src}</script>`), pkg);
    }
    const vegaLite = JSON.parse(readFileSync(`${ROOT}node_modules/vega-lite/package.json`, 'utf8')) as { version: string; unpkg: string };
    assert.equal(b.versions['vega-lite'], vegaLite.version);
    assert.ok(!html.includes(readFileSync(`${ROOT}node_modules/vega-lite/${vegaLite.unpkg}`, 'utf8').slice(0, 2000)), 'the vega-lite bundle is not inlined');
    assert.equal((html.match(/<script>/g) ?? []).length, 3, 'vega, vega-embed, the client');
    assert.equal(inlineScript('"</script>"; /<\\/SCRIPT/'), '"<\\/script>"; /<\\/SCRIPT/');
  });

  it('the stylesheet and client script are in the report stage’s cache key', async () => {
    const fp = await codeFingerprint(new URL('../../stages/wiring/report.ts', import.meta.url).href, ROOT);
    for (const f of ['stages/page/client/report.css', 'stages/page/client/client.ts']) assert.ok(fp.files[f], `${f} not hashed`);
  });
});
