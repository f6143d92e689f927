// The engine's own modules import one another without a circle (type-only imports included:
// a circle of types is still two modules that cannot be understood apart), and only the
// SLURM executor's folder names SLURM.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLayers } from '../../tools/layers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENGINE = path.join(ROOT, 'pipeline/engine/');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('engine: module structure', () => {
  const all = files(ENGINE);

  it('no circle of imports among pipeline/engine modules', () => {
    // The repository's import walk (tools/layers.ts), read for circles that touch the engine.
    const found = checkLayers(ROOT).findings.filter((f) => f.kind === 'file circle' && f.text.includes('pipeline/engine/'));
    assert.deepEqual(found, []);
  });

  it('SLURM is named only inside executors/slurm/ and the registry line that lists it', () => {
    const naming = all.filter((f) => /slurm/i.test(readFileSync(f, 'utf8'))).map((f) => path.relative(ENGINE, f));
    assert.deepEqual(naming.filter((f) => !f.startsWith(`executors${path.sep}slurm${path.sep}`)), [`executors${path.sep}registry.ts`]);
  });
});
