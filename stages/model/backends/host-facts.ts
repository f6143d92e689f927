// Cheap facts about this host that a slow probe's answer depends on (which files a native library
// is, the CPU, environment variables), so the answer can be filed in the store's probe memo
// (pipeline/engine/types.ts: ProbeMemo) under them and reused until one of them changes.
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import type { Json, JsonObject, ProbeMemo } from '../../../pipeline/engine/types.ts';

/** What a file is now: its real path (links followed), size and mtime; null when absent. */
export function fileSignature(p: string): Json {
  try {
    const real = realpathSync(p);
    const st = statSync(real);
    return [real, st.size, st.mtimeMs];
  } catch {
    return null;
  }
}

/** The signatures of a folder's entries (name -> signature); null when the folder is absent. */
export function folderSignature(dir: string): Json {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return null;
  }
  return Object.fromEntries(names.map((n) => [n, fileSignature(`${dir}/${n}`)]));
}

/** A folder's entry names, sorted (device nodes: which exist, not their times); null when absent. */
export function folderNames(dir: string): Json {
  try {
    return readdirSync(dir).sort();
  } catch {
    return null;
  }
}

/** A small file's text (/proc, /sys); null when absent. */
export function fileText(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

/** The environment variables whose names match, sorted by name. */
export function envMatching(env: NodeJS.ProcessEnv, name: RegExp): JsonObject {
  return Object.fromEntries(Object.keys(env).filter((k) => name.test(k)).sort().map((k) => [k, env[k] ?? '']));
}

/**
 * The CPU as a library's own detection sees it: vendor, family, model, stepping, name and
 * feature flags of the first processor in /proc/cpuinfo (or the given text).
 */
export function cpuIdentity(cpuinfo?: string): JsonObject {
  const text = cpuinfo ?? fileText('/proc/cpuinfo') ?? '';
  const first = text.split(/\n\s*\n/)[0] ?? '';
  const out: JsonObject = {};
  for (const line of first.split('\n')) {
    const m = /^(vendor_id|cpu family|model|model name|stepping|flags|Features|CPU implementer|CPU part|CPU variant)\s*:\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** The Node.js that runs the probe's child process (native modules load into it). */
export function nodeIdentity(): JsonObject {
  return { node: process.version, abi: process.versions.modules, arch: process.arch, platform: process.platform, execPath: process.execPath };
}

/**
 * A slow probe's answer: with a memo that need not be fresh (a read command), the one filed
 * under `inputs()` when it passes `valid`; otherwise (and when nothing is filed) `probe()`,
 * filed for next time. Without a memo (doctor, workers, tests) simply `probe()`.
 */
export function remembered<T>(memo: ProbeMemo | undefined, name: string, inputs: () => Json, probe: () => T, valid: (v: Json) => boolean): T {
  if (!memo) return probe();
  const facts = inputs();
  if (!memo.fresh) {
    const filed = memo.recall(name, facts);
    if (filed !== undefined && valid(filed)) return filed as T;
  }
  const value = probe();
  memo.remember(name, facts, value as Json);
  return value;
}
