// The compiled JavaScript the commands run: esbuild bundles the TypeScript entry points (CLI,
// worker, SLURM batch job, the project) into .build/js-<stamp>/, once, and again only when a
// source file changed, so a command starts without compiling TypeScript (tsx) on every run.
//
// Every module keeps its source's `import.meta.url` (replaced by the literal file URL of its .ts
// file), so data files named relative to a module, a stage's `module` (its code fingerprint) and
// the project root resolve exactly as when the sources run through tsx: cache keys do not change.
// `npm ci` builds it (`prepare`); `node bin/compiled.js` rebuilds it by hand.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILD = path.join(ROOT, '.build');
const CURRENT = path.join(BUILD, 'current.json');
/** Entry name -> source, relative to the root; the engine maps a source to its entry (pipeline/engine/compiled.ts). */
export const ENTRIES = {
  main: 'pipeline/engine/main.ts',
  worker: 'pipeline/engine/worker.ts',
  'batch-job': 'pipeline/engine/executors/slurm/batch-job.ts',
  project: 'stages/wiring/project.ts',
};
const EXTERNAL = ['@tensorflow/*', 'vega', 'vega-*', 'esbuild', 'koffi', 'webgpu', 'tsx', 'tsx/*', 'tar', 'zx', 'playwright-core', 'typescript', 'mocha'];
// Builds older than this are removed by the next build (a long run's late worker may still load one).
const KEEP_MS = 7 * 24 * 3600 * 1000;
const FORMAT = 1;

/** The current build when every input is unchanged since it was made, else undefined. */
function current() {
  let b;
  try {
    b = JSON.parse(readFileSync(CURRENT, 'utf8'));
  } catch {
    return undefined;
  }
  if (b.format !== FORMAT || b.root !== ROOT) return undefined;
  try {
    for (const [file, mtimeMs, size] of b.inputs) {
      const s = statSync(path.join(ROOT, file));
      if (s.mtimeMs !== mtimeMs || s.size !== size) return undefined;
    }
    statSync(path.join(b.dir, 'main.js'));
  } catch {
    return undefined;
  }
  return b;
}

/** Bundles the entries into a fresh folder and makes it current; returns the build. */
export async function build() {
  const { build: esbuild } = await import('esbuild');
  const dir = path.join(BUILD, `js-${Date.now().toString(36)}-${process.pid}`);
  const entries = Object.fromEntries(Object.entries(ENTRIES).map(([name, src]) => [path.join(ROOT, src), path.join(dir, `${name}.js`)]));
  const started = Date.now();
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, src]) => [name, src])),
    outdir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Small pure-JS dependencies are bundled (one file to load instead of hundreds); large,
    // native or lazily loaded ones stay packages.
    external: EXTERNAL,
    sourcemap: 'linked',
    metafile: true,
    // What the bundled CommonJS packages expect of a module (write-file-atomic hashes __filename).
    banner: {
      js: "import { createRequire as __wcRequire } from 'node:module'; import { fileURLToPath as __wcPath } from 'node:url'; const require = __wcRequire(import.meta.url); const __filename = __wcPath(import.meta.url); const __dirname = __wcPath(new URL('.', import.meta.url));",
    },
    logLevel: 'silent',
    // Tells the engine that it runs compiled, and where each entry's source went.
    define: { __WEAKCORR_BUILD__: JSON.stringify({ entries }) },
    plugins: [
      {
        name: 'source-import-meta-url',
        setup(b) {
          b.onLoad({ filter: /\.[cm]?ts$/ }, (args) => ({
            contents: readFileSync(args.path, 'utf8').replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href)),
            loader: 'ts',
          }));
        },
      },
    ],
  });
  const self = path.relative(ROOT, fileURLToPath(import.meta.url));
  const inputs = [...Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('<')), self].map((f) => {
    // Times of the files read before the bundle was written: an edit during the build makes it stale.
    const s = statSync(path.join(ROOT, f));
    return [f, s.mtimeMs, s.size];
  });
  const b = { format: FORMAT, root: ROOT, dir, entries, inputs, built: new Date(started).toISOString() };
  const tmp = `${CURRENT}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(b));
  renameSync(tmp, CURRENT);
  for (const old of readdirSync(BUILD)) {
    const p = path.join(BUILD, old);
    if (!old.startsWith('js-') || p === dir) continue;
    try {
      if (Date.now() - statSync(p).mtimeMs > KEEP_MS) rmSync(p, { recursive: true, force: true });
    } catch {}
  }
  // Kept schema validators (pipeline/engine/schema-validator.ts) of schemas since edited; one still
  // in use is simply generated again.
  const ajvDir = path.join(BUILD, 'ajv');
  let kept = [];
  try {
    kept = readdirSync(ajvDir);
  } catch {}
  for (const f of kept) {
    try {
      if (Date.now() - statSync(path.join(ajvDir, f)).mtimeMs > KEEP_MS) rmSync(path.join(ajvDir, f), { force: true });
    } catch {}
  }
  return b;
}

/**
 * The compiled entries ({ main: '/abs/.build/js-…/main.js', … }), building them first when a
 * source changed; undefined when no build can be made here (a read-only checkout, no esbuild):
 * the caller then runs the sources through tsx.
 */
export async function compiled() {
  let b = current();
  if (!b) {
    try {
      mkdirSync(BUILD, { recursive: true });
      b = await build();
    } catch (e) {
      if (process.env.WEAKCORR_DEBUG_BUILD) process.stderr.write(`compiled build failed: ${e?.stack ?? e}\n`);
      return undefined;
    }
  }
  return Object.fromEntries(Object.entries(ENTRIES).map(([name, src]) => [name, b.entries[path.join(ROOT, src)]]));
}

/** Imports an entry compiled, else its source through tsx (registered here, once). */
export async function importEntry(name) {
  const c = process.env.WEAKCORR_NO_BUILD ? undefined : await compiled();
  if (c) return import(pathToFileURL(c[name]).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(path.join(ROOT, ENTRIES[name])).href);
}

export const PROJECT_SOURCE = path.join(ROOT, ENTRIES.project);

// `node bin/compiled.js`: build now (npm's `prepare`); a failure is reported and not fatal, the
// commands then run the sources through tsx.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  mkdirSync(BUILD, { recursive: true });
  build().then(
    (b) => process.stdout.write(`compiled ${b.inputs.length} files into ${path.relative(ROOT, b.dir)}\n`),
    (e) => process.stderr.write(`bin/compiled.js: could not build (${e?.message ?? e}); the commands will run the TypeScript sources through tsx\n`),
  );
}
