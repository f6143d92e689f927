// The engine's own modules import one another without a circle (type-only imports included:
// a circle of types is still two modules that cannot be understood apart), and only the
// SLURM executor's folder names SLURM.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ENGINE = fileURLToPath(new URL('../../pipeline/engine/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of `file` that stay inside the engine. */
function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const specs = [...src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => path.resolve(path.dirname(file), s)).filter((p) => p.startsWith(ENGINE));
}

/** Every circle, each as the list of its files (Tarjan's strongly connected components). */
export function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('engine: module structure', () => {
  const all = files(ENGINE);
  const graph = new Map(all.map((f) => [f, importsOf(f)]));

  it('no circle of imports among pipeline/engine modules', () => {
    const found = circles(graph).map((c) => c.map((f) => path.relative(ENGINE, f)).sort().join(' -> '));
    assert.deepEqual(found, []);
  });

  it('SLURM is named only inside executors/slurm/ and the registry line that lists it', () => {
    const naming = all.filter((f) => /slurm/i.test(readFileSync(f, 'utf8'))).map((f) => path.relative(ENGINE, f));
    assert.deepEqual(naming.filter((f) => !f.startsWith(`executors${path.sep}slurm${path.sep}`)), [`executors${path.sep}registry.ts`]);
  });
});
