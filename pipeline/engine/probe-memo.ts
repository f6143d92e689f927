// The store's memo of slow host probes (types.ts: ProbeMemo): one small JSON file per answer in
// <store>/probes/, named by the probe and a hash of its inputs, holding the inputs themselves so a
// hash collision or a hand-edited file can never pass for another host's answer.
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { canonicalJson, sha256 } from './fingerprint.ts';
import type { Store } from './store.ts';
import type { Json, ProbeMemo } from './types.ts';

const NAME = /^[a-z][a-z0-9-]*$/;

export class StoreProbeMemo implements ProbeMemo {
  constructor(private readonly store: Store) {}

  /** A store that is written (run, gc) gets keys from fresh probes only. */
  get fresh(): boolean {
    return !this.store.readOnly;
  }

  private file(name: string, inputs: string): string {
    if (!NAME.test(name)) throw new Error(`internal: '${name}' is not a probe name`);
    return path.join(this.store.area('probes'), `${name}-${sha256(inputs).slice(0, 32)}.json`);
  }

  private read(file: string): { inputs: string; value: Json } | undefined {
    try {
      const o = JSON.parse(readFileSync(file, 'utf8')) as { inputs?: Json; value?: Json };
      if (o.inputs === undefined || o.value === undefined) return undefined;
      return { inputs: canonicalJson(o.inputs), value: o.value };
    } catch {
      return undefined; // absent, unreadable or torn: probe again
    }
  }

  recall(name: string, inputs: Json): Json | undefined {
    const want = canonicalJson(inputs);
    const got = this.read(this.file(name, want));
    return got && got.inputs === want ? got.value : undefined;
  }

  remember(name: string, inputs: Json, value: Json): void {
    if (this.store.readOnly) return;
    const want = canonicalJson(inputs);
    const file = this.file(name, want);
    const had = this.read(file);
    if (had && had.inputs === want && canonicalJson(had.value) === canonicalJson(value)) {
      // Confirmed by a fresh probe: its mtime says so, and gc keeps the newest answer (sweepProbes).
      try {
        const now = new Date();
        utimesSync(file, now, now);
      } catch {
        // Only a memo.
      }
      return;
    }
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic.sync(file, `${JSON.stringify({ name, inputs, value })}\n`);
    } catch {
      // Only a memo: a failed write costs a probe next time.
    }
  }
}

/**
 * gc's sweep of <store>/probes/: per probe (and, for code fingerprints, per entry module) the
 * answer a run filed or confirmed last is kept; older answers (another library, environment or
 * checkout since) and unreadable files go. Losing one costs a probe, never a wrong key: an answer
 * is only taken when its inputs match. Returns the paths removed (or, with `act` false, that would be).
 */
export function sweepProbes(store: Store, act: boolean): string[] {
  const dir = store.area('probes');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return []; // no memo yet
  }
  const newest = new Map<string, { file: string; mtime: number }>();
  const removed: string[] = [];
  for (const n of names.sort()) {
    const file = path.join(dir, n);
    let group: string;
    let mtime: number;
    try {
      const o = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; inputs?: { entry?: unknown } };
      if (typeof o.name !== 'string') throw new Error('no name');
      group = `${o.name}\0${typeof o.inputs?.entry === 'string' ? o.inputs.entry : ''}`;
      mtime = statSync(file).mtimeMs;
    } catch {
      removed.push(file); // torn or foreign: no answer anyway
      continue;
    }
    const had = newest.get(group);
    if (!had) newest.set(group, { file, mtime });
    else if (mtime > had.mtime) {
      removed.push(had.file);
      newest.set(group, { file, mtime });
    } else removed.push(file);
  }
  if (act) for (const f of removed) rmSync(f, { force: true });
  return removed.sort();
}
