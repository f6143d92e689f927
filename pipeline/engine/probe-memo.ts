// The store's memo of slow host probes (types.ts: ProbeMemo): one small JSON file per answer in
// <store>/probes/, named by the probe and a hash of its inputs, holding the inputs themselves so a
// hash collision or a hand-edited file can never pass for another host's answer.
import { mkdirSync, readFileSync } from 'node:fs';
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
    if (had && had.inputs === want && canonicalJson(had.value) === canonicalJson(value)) return;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic.sync(file, `${JSON.stringify({ name, inputs, value })}\n`);
    } catch {
      // Only a memo: a failed write costs a probe next time.
    }
  }
}
