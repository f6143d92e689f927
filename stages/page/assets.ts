// What the page inlines besides its content: the stylesheet, the client script compiled from
// TypeScript, and the browser builds of vega and vega-embed (vega-lite compiles each figure when
// the page is built, sections.ts: the page needs no vega-lite). The page stays one
// self-contained file that works offline.
//
// Asset files are named as `new URL('<literal>', import.meta.url)`: the engine hashes files named
// that way into the stage's cache key, so editing the CSS or the client script rebuilds the report.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CSS_FILE = new URL('./client/report.css', import.meta.url);
const CLIENT_FILE = new URL('./client/client.ts', import.meta.url);

/** A literal '</script' would end an inline script early; in JS it can only occur in strings or
 *  regexes, where '<\/script' means the same. */
export function inlineScript(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script');
}

/** The page's stylesheet, as written. */
export function reportCss(): string {
  return readFileSync(CSS_FILE, 'utf8');
}

let clientCache: Promise<string> | undefined;

/** The client script with what it imports (figure-data.ts), bundled into one self-running function (same input, same bytes). */
export function clientScript(): Promise<string> {
  clientCache ??= compileClient();
  return clientCache;
}

/** The client script compiled afresh (clientScript caches it per process). */
export async function compileClient(): Promise<string> {
  // esbuild is imported here, not at the top: every command imports this stage's module.
  const { build } = await import('esbuild');
  const r = await build({ entryPoints: [fileURLToPath(CLIENT_FILE)], bundle: true, write: false, absWorkingDir: fileURLToPath(new URL('./client/', import.meta.url)), format: 'iife', target: 'es2020', legalComments: 'none', logLevel: 'silent' });
  return inlineScript(r.outputFiles[0]!.text);
}

export interface BrowserBundles {
  /** Minified UMD builds: they define the globals vega and vegaEmbed. */
  vega: string;
  vegaEmbed: string;
  /** vega-lite: the version that compiled the figures (not inlined). */
  versions: { vega: string; 'vega-lite': string; 'vega-embed': string };
}

const require = createRequire(import.meta.url);

/** A package's folder and manifest. Its exports map hides package.json and build/, so resolve the
 *  package's entry the way Node does and go up to the manifest that names the package. */
function packageOf(pkg: string): { dir: string; manifest: { version: string; unpkg?: string } } {
  const entry = require.resolve(pkg);
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string; unpkg?: string };
      if (manifest.name === pkg) return { dir, manifest };
    } catch {
      // no package.json at this level
    }
  }
  throw new Error(`report: no package.json named '${pkg}' above ${entry}`);
}

let bundlesCache: BrowserBundles | undefined;

/** The browser (UMD, minified) builds of vega and vega-embed: each package's `unpkg` file. */
export function loadBrowserBundles(): BrowserBundles {
  if (bundlesCache) return bundlesCache;
  const read = (pkg: string) => {
    const { dir, manifest } = packageOf(pkg);
    if (!manifest.unpkg) throw new Error(`report: package '${pkg}' names no browser build (unpkg)`);
    return { src: inlineScript(readFileSync(join(dir, manifest.unpkg), 'utf8')), version: manifest.version };
  };
  const v = read('vega');
  const e = read('vega-embed');
  bundlesCache = {
    vega: v.src,
    vegaEmbed: e.src,
    versions: { vega: v.version, 'vega-lite': packageOf('vega-lite').manifest.version, 'vega-embed': e.version },
  };
  return bundlesCache;
}
