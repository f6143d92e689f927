// Cache keys: canonical JSON (RFC 8785, via `canonicalize`) hashed with sha256.
// The whole recipe of a task key lives in `taskKey` so it can be read in one place.
import { createHash, hash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import canonicalizeModule from 'canonicalize';
import type { ContentHash, Json, JsonObject, ProbeMemo, TaskKey } from './types.ts';

// esbuild is loaded only to bundle (a memo miss); its version, part of the memo's facts, is read
// from its package.json: loading esbuild cost every command about 20 ms.
const esbuildVersion = (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version;

// The package is CommonJS with ESM-style typings: its default import is the function itself.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

export function sha256(data: string | Uint8Array): string {
  // The one-shot form: a Hash object per call costs more than hashing a task key's few hundred bytes.
  return hash('sha256', data, 'hex');
}

/** Thrown inside `fastCanonical` for what only `canonicalize` knows how to write (toJSON, functions...). */
const NOT_PLAIN = Symbol('not plain JSON');

/**
 * `canonicalize` for plain JSON values (null, booleans, finite numbers, strings, arrays, objects
 * without toJSON), byte for byte: keys sorted by UTF-16 code units, numbers and strings as
 * JSON.stringify writes them, undefined properties left out and undefined array items as null.
 * Several times faster than the library's string reduce, which matters at one key per task.
 */
function fastCanonical(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw NOT_PLAIN;
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if ('toJSON' in v) throw NOT_PLAIN;
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          // A hole: the library's reduce skips it (no item, no null); never in parsed JSON.
          if (!(i in v)) throw NOT_PLAIN;
          const item: unknown = v[i];
          out += (i ? ',' : '') + (item === undefined ? 'null' : fastCanonical(item));
        }
        return `${out}]`;
      }
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const item = o[k];
        if (item === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${fastCanonical(item)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw NOT_PLAIN;
  }
}

export function canonicalJson(value: Json): string {
  let text: string | undefined;
  try {
    text = fastCanonical(value);
  } catch (e) {
    if (e !== NOT_PLAIN) throw e;
    // What the fast path does not write (NaN, toJSON, functions, symbols): the library decides.
    text = canonicalize(value);
  }
  if (text === undefined) throw new Error('value cannot be canonicalized as JSON');
  return text;
}

export function hashBytes(data: Uint8Array | string): ContentHash {
  return sha256(data) as ContentHash;
}

/** Everything that decides whether a task's cached outputs are still valid. */
export interface KeyComponents {
  stage: string;
  code: string;
  /** data files the stage's code reads (relative path -> content hash) */
  files: Record<string, string>;
  params: JsonObject;
  /** upstream task id -> output name -> content hash (early cutoff: content, not upstream keys) */
  inputs: Record<string, Record<string, string>>;
  runtime: JsonObject;
  /** matrix values: part of the identity, so two tasks of one stage never share a key */
  axes: JsonObject;
  /** only for perExperiment stages */
  experiment?: string;
  /** only for perExperiment stages of a variant: its command-line overrides */
  overrides?: JsonObject;
}

export function taskKey(c: KeyComponents): TaskKey {
  return sha256(
    canonicalJson({
      v: 2,
      stage: c.stage,
      code: c.code,
      files: c.files,
      params: c.params,
      inputs: c.inputs,
      runtime: c.runtime,
      axes: c.axes,
      ...(c.experiment === undefined ? {} : { experiment: c.experiment }),
      ...(c.overrides === undefined ? {} : { overrides: c.overrides }),
    }),
  ) as TaskKey;
}

/** What the tasks of one stage share in their key components. */
export type StageKeyParts = Omit<KeyComponents, 'inputs' | 'axes'>;

/**
 * `taskKey` for the tasks of one stage: the text of the components they share is written once,
 * each task adds its axes and inputs. The same bytes as taskKey's canonical JSON (its keys in
 * sorted order: axes, code, experiment, files, inputs, overrides, params, runtime, stage, v), so
 * the same keys (test/engine/graph.test.ts compares the two).
 */
export function stageKeyer(p: StageKeyParts): (axes: JsonObject, inputs: KeyComponents['inputs'] | string) => TaskKey {
  const field = (name: string, v: Json | undefined): string => (v === undefined ? '' : `${JSON.stringify(name)}:${canonicalJson(v)},`);
  const mid = `${field('code', p.code)}${field('experiment', p.experiment)}${field('files', p.files)}`;
  const tail = `${field('overrides', p.overrides)}${field('params', p.params)}${field('runtime', p.runtime)}${field('stage', p.stage)}"v":2}`;
  // `inputs` as an object, or already as its canonical JSON (planner.ts writes it from the deps' outputs).
  return (axes, inputs) => sha256(`{${field('axes', axes)}${mid}"inputs":${typeof inputs === 'string' ? inputs : canonicalJson(inputs)},${tail}`) as TaskKey;
}

/** A stage's code identity: its bundled module graph, and the data files that code reads. */
export interface CodeFingerprint {
  code: string;
  /** path relative to the project root -> content hash (JSON files hashed canonically) */
  files: Record<string, string>;
}

const codeCache = new Map<string, Promise<CodeFingerprint>>();

// `new URL('../../schemas/x.json', import.meta.url)`: how a module names a data file it reads.
const FILE_REF = /new\s+URL\(\s*(['"`])([^'"`$]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Content hash of a data file; JSON is canonicalized so a formatting-only edit changes nothing. */
export function fileHash(absPath: string): string {
  const bytes = readFileSync(absPath);
  if (absPath.endsWith('.json')) {
    try {
      return sha256(canonicalJson(JSON.parse(bytes.toString('utf8')) as Json));
    } catch {
      // not valid JSON: its bytes decide
    }
  }
  return sha256(bytes);
}

function isInside(root: string, abs: string): boolean {
  const rel = path.relative(root, abs);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function relativeToRoot(root: string, abs: string): string {
  const rel = path.relative(root, abs).split(path.sep).join('/');
  if (rel.startsWith('../') || path.isAbsolute(rel))
    throw new Error(`${abs} is outside the project root ${root}: a key must not depend on where the repository is cloned`);
  return rel;
}

/**
 * Hash of a stage's own module graph inside the repo: esbuild bundles the entry with npm packages
 * left external, strips comments and minifies whitespace, so comment- and whitespace-only edits
 * leave the fingerprint unchanged while any change to code or imported JSON changes it.
 * Paths in the bundle are relative to `root`, never to the working directory, so the key is the
 * same from any directory and in any clone. Data files the module graph reads through
 * `new URL('<literal>', import.meta.url)`, and the stage's declared `files` (relative to `root`),
 * enter as content hashes.
 *
 * `memo` (the store's, types.ts: ProbeMemo): a read command takes the fingerprint filed by the
 * last run while every file it was computed from (each module, each data file, every tsconfig.json
 * and package.json esbuild could have read) has the stat signature it had then; a run (a fresh
 * memo) always bundles, and files what it found.
 */
export function codeFingerprint(moduleUrlOrPath: string, root: string, declaredFiles: readonly string[] = [], memo?: ProbeMemo): Promise<CodeFingerprint> {
  const entry = moduleUrlOrPath.startsWith('file:') ? fileURLToPath(moduleUrlOrPath) : moduleUrlOrPath;
  const cacheKey = JSON.stringify([entry, root, declaredFiles]);
  let pending = codeCache.get(cacheKey);
  if (!pending) {
    pending = memo ? memoized(entry, root, declaredFiles, memo) : bundled(entry, root, declaredFiles).then((b) => b.fingerprint);
    codeCache.set(cacheKey, pending);
  }
  return pending;
}

/** A file's size, inode, mtime and ctime (a user cannot set ctime back); null when absent. */
function statSignature(abs: string): string | null {
  const st = statSync(abs, { throwIfNoEntry: false });
  return st ? `${st.size}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}` : null;
}

// A file changed this close to the start of a bundle may have changed while esbuild read it (file
// times are coarse on some file systems): its fingerprint is not filed.
const RACY_MS = 2000;

type FiledFingerprint = { fingerprint: CodeFingerprint; signatures: Record<string, string | null> };

function isFiled(v: Json | undefined): v is FiledFingerprint & Json {
  const o = v as Partial<FiledFingerprint> | undefined | null;
  return typeof o === 'object' && o !== null && typeof o.fingerprint?.code === 'string' && typeof o.fingerprint.files === 'object' &&
    typeof o.signatures === 'object' && o.signatures !== null && Object.keys(o.signatures).length > 0;
}

async function memoized(entry: string, root: string, declaredFiles: readonly string[], memo: ProbeMemo): Promise<CodeFingerprint> {
  const facts: Json = { entry, root, declaredFiles: [...declaredFiles], esbuild: esbuildVersion, v: 1 };
  if (!memo.fresh) {
    const filed = memo.recall('code', facts);
    if (isFiled(filed) && Object.entries(filed.signatures).every(([f, sig]) => statSignature(path.resolve(root, f)) === sig)) return filed.fingerprint;
  }
  const started = Date.now();
  const b = await bundled(entry, root, declaredFiles);
  const signatures: Record<string, string | null> = {};
  for (const f of b.read) signatures[f] = statSignature(path.resolve(root, f));
  const racy = Object.values(signatures).some((sig) => sig !== null && sig.split(':').slice(2).some((t) => Number(t) >= started - RACY_MS));
  if (!racy) memo.remember('code', facts, { fingerprint: b.fingerprint, signatures } as unknown as Json);
  return b.fingerprint;
}

/** The fingerprint, and every file (relative to root) whose content or presence it was computed from. */
async function bundled(entry: string, root: string, declaredFiles: readonly string[]): Promise<{ fingerprint: CodeFingerprint; read: string[] }> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const text = result.outputFiles.map((f) => f.text).join('\n');
  const files: Record<string, string> = {};
  const read = new Set<string>();
  const dirs = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const abs = path.resolve(root, input);
    // A module outside the root (the engine, for a project elsewhere) is watched by its absolute
    // path; only the memo's signatures see it, never a key.
    read.add(isInside(root, abs) ? relativeToRoot(root, abs) : abs);
    for (let d = path.dirname(abs); isInside(root, d) && !dirs.has(d); d = path.dirname(d)) dirs.add(d);
    if (!/\.[cm]?[jt]sx?$/.test(abs)) continue;
    for (const m of readFileSync(abs, 'utf8').matchAll(FILE_REF)) {
      const ref = path.resolve(path.dirname(abs), m[2]!);
      if (existsSync(ref) && statSync(ref).isFile()) files[relativeToRoot(root, ref)] = fileHash(ref);
      // Present or not (creating it changes the fingerprint), its signature is checked.
      if (isInside(root, ref)) read.add(relativeToRoot(root, ref));
    }
  }
  // The settings esbuild reads beside the modules (the nearest tsconfig.json, package.json "type").
  for (const d of dirs) for (const f of ['tsconfig.json', 'jsconfig.json', 'package.json']) read.add(relativeToRoot(root, path.join(d, f)));
  for (const f of declaredFiles) {
    const abs = path.resolve(root, f);
    if (!existsSync(abs)) throw new Error(`declared file '${f}' does not exist (looked for ${abs})`);
    files[relativeToRoot(root, abs)] = fileHash(abs);
    read.add(relativeToRoot(root, abs));
  }
  return { fingerprint: { code: sha256(text), files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) }, read: [...read].sort() };
}
