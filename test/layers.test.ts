// The source tree's layering (tools/layers.ts, drawn in docs/architecture.md): nothing imports
// upward, nothing closes a circle, every file sits in a room of the layer table.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLayers, formatReport, LAYERS } from '../tools/layers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('layers: the import graph runs down the layers', () => {
  it('this repository: no upward import, no circle, no file outside the layers', () => {
    const r = checkLayers(root);
    assert.ok(r.files > 100 && r.imports > 300, `the walk found too little: ${r.files} files, ${r.imports} imports`);
    assert.deepEqual(r.findings, [], formatReport(r));
  });

  it('stages import from the engine only its stage API and its general utilities (docs/architecture.md)', () => {
    const allowed = ['types.ts', 'define-stage.ts', 'errors.ts', 'shell.ts', 'retry.ts', 'schema-validator.ts'].map((f) => `pipeline/engine/${f}`);
    const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : /\.ts$/.test(e.name) ? [path.join(dir, e.name)] : []));
    const imported = new Set<string>();
    for (const file of walk(path.join(root, 'stages')))
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\(\s*)'(\.{1,2}\/[^']*)'/g)) {
        const target = path.relative(root, path.resolve(path.dirname(file), m[1]!)).split(path.sep).join('/');
        if (target.startsWith('pipeline/')) imported.add(target);
      }
    assert.ok(imported.has('pipeline/engine/define-stage.ts'), 'the walk found the stages\' engine imports');
    assert.deepEqual([...imported].filter((t) => !allowed.includes(t)).sort(), []);
  });

  it('finds an upward import, a file circle and a room circle in a tree made to have them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-'));
    const put = (f: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    };
    put('pipeline/engine/a.ts', "import { x } from '../../stages/model/m.ts';\nexport const a = 1;\n");
    put('stages/model/m.ts', "import { a } from '../../pipeline/engine/a.ts';\nexport const x = a;\n");
    put('stages/page/p.ts', "import { q } from '../stats/s.ts';\nexport const p = 1;\n");
    put('stages/stats/s.ts', "import { p } from '../page/p.ts';\nexport const q = 2;\n");
    put('stages/wiring/w.ts', "export const w = new URL('./asset.css', import.meta.url);\n");
    put('stages/stray/z.ts', 'export const z = 0;\n');
    const r = checkLayers(dir, LAYERS, []);
    const kinds = r.findings.map((f) => f.kind).sort();
    assert.deepEqual(kinds, ['file circle', 'file circle', 'outside the layers', 'room circle', 'room circle', 'upward'], formatReport(r));
    assert.match(r.findings.find((f) => f.kind === 'upward')!.text, /pipeline\/engine\/a\.ts \(engine\) imports stages\/model\/m\.ts \(base\)/);
    assert.match(r.findings.find((f) => f.kind === 'outside the layers')!.text, /stages\/stray\/z\.ts/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
