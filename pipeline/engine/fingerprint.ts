// Cache keys: canonical JSON (RFC 8785, via `canonicalize`) hashed with sha256.
// The whole recipe of a task key lives in `taskKey` so it can be read in one place.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import canonicalizeModule from 'canonicalize';
import { build } from 'esbuild';
import type { ContentHash, Json, JsonObject, TaskKey } from './types.ts';

// The package is CommonJS with ESM-style typings: its default import is the function itself.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalJson(value: Json): string {
  const text = canonicalize(value);
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
  params: JsonObject;
  /** upstream task id -> output name -> content hash (early cutoff: content, not upstream keys) */
  inputs: Record<string, Record<string, string>>;
  runtime: JsonObject;
  /** matrix values: part of the identity, so two tasks of one stage never share a key */
  axes: JsonObject;
  /** only for perExperiment stages */
  experiment?: string;
}

export function taskKey(c: KeyComponents): TaskKey {
  return sha256(
    canonicalJson({
      v: 1,
      stage: c.stage,
      code: c.code,
      params: c.params,
      inputs: c.inputs,
      runtime: c.runtime,
      axes: c.axes,
      ...(c.experiment === undefined ? {} : { experiment: c.experiment }),
    }),
  ) as TaskKey;
}

const codeCache = new Map<string, Promise<string>>();

/**
 * Hash of a stage's own module graph inside the repo: esbuild bundles the entry with npm packages
 * left external, strips comments and minifies whitespace, so comment- and whitespace-only edits
 * leave the fingerprint unchanged while any change to code or imported JSON changes it.
 */
export function codeFingerprint(moduleUrlOrPath: string): Promise<string> {
  const entry = moduleUrlOrPath.startsWith('file:') ? fileURLToPath(moduleUrlOrPath) : moduleUrlOrPath;
  let pending = codeCache.get(entry);
  if (!pending) {
    pending = build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      minifyWhitespace: true,
      legalComments: 'none',
      logLevel: 'silent',
      // Absolute paths would make the key depend on where the repo is checked out.
      absWorkingDir: process.cwd(),
    }).then((result) => {
      const text = result.outputFiles.map((f) => f.text).join('\n');
      return sha256(text);
    });
    codeCache.set(entry, pending);
  }
  return pending;
}
