import assert from 'node:assert/strict';
import { buildGraph, GraphError, orderStages, selectClosure } from '../../pipeline/engine/graph.ts';
import canonicalizeModule from 'canonicalize';
import { canonicalJson, codeFingerprint, fileHash, stageKeyer, taskKey } from '../../pipeline/engine/fingerprint.ts';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Planner } from '../../pipeline/engine/planner.ts';
import { Store } from '../../pipeline/engine/store.ts';
import type { ContentHash, Project, StageDecl } from '../../pipeline/engine/types.ts';

const createHashHex = (s: string): string => createHash('sha256').update(s).digest('hex');

const stage = (name: string, extra: Partial<StageDecl> = {}): StageDecl => ({
  name, module: 'x.ts', params: [], outputs: {}, run: async () => {}, ...extra,
});

describe('engine: graph', () => {
  it('names the cycle when stages depend on each other', () => {
    const stages = [stage('a', { needs: [{ stage: 'c' }] }), stage('b', { needs: [{ stage: 'a' }] }), stage('c', { needs: [{ stage: 'b' }] })];
    assert.throws(() => orderStages(stages), (e: Error) => e instanceof GraphError && /cycle: a -> c -> b -> a/.test(e.message));
  });

  it('rejects a need on an unknown stage and a param the config lacks', () => {
    assert.throws(() => orderStages([stage('a', { needs: [{ stage: 'zz' }] })]), /needs unknown stage 'zz'/);
    assert.throws(() => buildGraph([stage('a', { params: ['x.y'] })], {}), /reads param 'x.y'/);
  });

  it('fans out a union of matrices with readable ids and joins upstream on shared axes', () => {
    const fetch = stage('fetch', { matrix: { dataset: 'datasets' } });
    const train = stage('train', {
      needs: [{ stage: 'fetch' }],
      matrix: [
        { protocol: { values: ['a1'] }, dataset: 'a1.datasets', width: { key: 'a1.widths', prefix: 'w' } },
        { protocol: { values: ['a2'] }, dataset: { values: ['mnist'] }, width: { key: 'a2.widths', prefix: 'w' }, seed: { key: 'a2.seeds', prefix: 's' } },
      ],
    });
    const fit = stage('fit', { needs: [{ stage: 'train' }], matrix: { protocol: { values: ['a1', 'a2'] } } });
    const g = buildGraph([fit, train, fetch], {
      datasets: ['mnist', 'cifar-10'],
      a1: { datasets: ['mnist', 'cifar-10'], widths: [8, 16] },
      a2: { widths: [64], seeds: [0, 1] },
    });
    assert.deepEqual(g.stages.map((s) => s.name), ['fetch', 'train', 'fit']);
    const ids = g.tasks.filter((t) => t.stage.name === 'train').map((t) => t.id);
    assert.deepEqual(ids, ['train@a1,mnist,w8', 'train@a1,mnist,w16', 'train@a1,cifar-10,w8', 'train@a1,cifar-10,w16', 'train@a2,mnist,w64,s0', 'train@a2,mnist,w64,s1']);
    assert.deepEqual(g.byId.get('train@a1,cifar-10,w8')!.deps.map((d) => d.id), ['fetch@cifar-10']);
    assert.deepEqual(g.byId.get('fit@a2')!.deps.map((d) => d.id), ['train@a2,mnist,w64,s0', 'train@a2,mnist,w64,s1']);
    assert.deepEqual(selectClosure(g, ['train']).map((t) => t.stage.name).filter((n) => n === 'fit'), []);
    assert.throws(() => selectClosure(g, ['trian']), /unknown stage 'trian'/);
  });

  it('a conditional need applies only when its config key is true', () => {
    const a = stage('a');
    const b = stage('b', { needs: [{ stage: 'a', when: 'useA' }] });
    assert.deepEqual(buildGraph([a, b], { useA: false }).byId.get('b')!.deps, []);
    assert.deepEqual(buildGraph([a, b], { useA: true }).byId.get('b')!.deps.map((d) => d.id), ['a']);
  });

  it('a matrix axis that is not a list is a clear error', () => {
    assert.throws(() => buildGraph([stage('a', { matrix: { w: 'widths' } })], { widths: 8 }), /axis 'w' reads config key 'widths', expected a list, got 8/);
  });
});

describe('engine: fingerprints', () => {
  it('keys do not depend on object key order, and do depend on every component', () => {
    const base = { stage: 's', code: 'c', files: { 'x.json': 'h' }, params: { a: 1, b: [1, 2] }, inputs: { u: { o: 'h' } }, runtime: { backend: 'wasm' }, axes: { w: 8 } };
    const reordered = { axes: { w: 8 }, runtime: { backend: 'wasm' }, inputs: { u: { o: 'h' } }, params: { b: [1, 2], a: 1 }, files: { 'x.json': 'h' }, code: 'c', stage: 's' };
    assert.equal(taskKey(base), taskKey(reordered));
    assert.equal(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] }), '{"a":[2,{"c":2,"d":1}],"b":1}');
    for (const change of [{ code: 'd' }, { files: { 'x.json': 'i' } }, { params: { a: 2, b: [1, 2] } }, { inputs: { u: { o: 'g' } } }, { runtime: { backend: 'cpu' } }, { axes: { w: 16 } }])
      assert.notEqual(taskKey({ ...base, ...change }), taskKey(base));
  });

  it('canonical JSON is the library\'s byte for byte; stageKeyer gives taskKey\'s keys; keys of the old engine are unchanged', () => {
    const canonicalize = canonicalizeModule as unknown as (v: unknown) => string | undefined;
    // A small deterministic generator of awkward JSON: keys that sort differently by code unit
    // and by locale, escapes, unicode, numbers at the edges of their shortest forms.
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    const keys = ['a', 'B', 'b', 'é', 'e', 'Z', '_', '10', '9', '', 'a b', '\u2028', '"q"', '\ud83d\ude00', 'aa', 'A'];
    const nums = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 123456789.125, -2.5e-300, Number.MAX_SAFE_INTEGER, 5e-324];
    const value = (depth: number): unknown => {
      const k = rand(depth > 3 ? 4 : 7);
      if (k === 0) return nums[rand(nums.length)];
      if (k === 1) return keys[rand(keys.length)];
      if (k === 2) return [true, false, null][rand(3)];
      if (k === 3) return `s${rand(1000)}\n\t\u0001`;
      if (k === 4) return Array.from({ length: rand(4) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = rand(5); i > 0; i--) o[keys[rand(keys.length)]!] = value(depth + 1);
      if (rand(4) === 0) o.gone = undefined;
      return o;
    };
    for (let i = 0; i < 2000; i++) {
      const v = value(0);
      assert.equal(canonicalJson(v as never), canonicalize(v), JSON.stringify(v));
    }
    // What only the library writes: toJSON, a hole, undefined in an array.
    for (const v of [{ d: new Date(0), x: 1 }, [1, , 3], [undefined, 1], { t: { toJSON: 1 } }]) assert.equal(canonicalJson(v as never), canonicalize(v));
    assert.throws(() => canonicalJson(NaN as never), /NaN/);

    for (let i = 0; i < 300; i++) {
      const shared = { stage: `s${rand(3)}`, code: 'c'.repeat(rand(3)), files: value(2) as Record<string, string>, params: value(1) as never, runtime: value(2) as never,
        ...(rand(2) ? { experiment: keys[rand(keys.length)]! } : {}), ...(rand(3) === 0 ? { overrides: value(2) as never } : {}) };
      const keyer = stageKeyer(shared);
      for (let j = 0; j < 3; j++) {
        const axes = value(1) as never;
        const inputs: Record<string, Record<string, string>> = { [`up@i${rand(20)}`]: { value: 'ab'.repeat(32) }, [`up@i${rand(20)}`]: { raw: 'cd'.repeat(32) } };
        assert.equal(keyer(axes, inputs), taskKey({ ...shared, axes, inputs }));
      }
    }
    // Keys the engine before the fast canonical JSON computed (8085a40), pinned.
    const c = { stage: 'square', code: 'c0de', files: { 'data/b.json': 'h1', 'a.txt': 'h2' }, params: { offset: 0, note: 'é ü \u2028', deep: { z: [1, 2.5, -0, 1e21, null, true], Z: 'x', 'é': 1, e: 2 } }, inputs: { 'gen@i1': { value: 'ab'.repeat(32) }, 'gen@i10': { value: 'cd'.repeat(32), raw: 'ef'.repeat(32) } }, runtime: { backend: 'wasm', threads: 4 }, axes: { item: 1, w: 'x' } };
    assert.equal(taskKey(c), '71b386735862c06e9063e1e2fc67f35a12f24c58d491e5125ddb522f6314cede');
    assert.equal(taskKey({ ...c, experiment: 'quick', overrides: { 'a.b': 3 } }), 'ade02de99c47abdb84f144c77175161e51a58e6a5d9cb05689d6a445d4105461');
    assert.equal(stageKeyer({ ...c, experiment: 'quick', overrides: { 'a.b': 3 } })(c.axes, c.inputs), 'ade02de99c47abdb84f144c77175161e51a58e6a5d9cb05689d6a445d4105461');
  });

  it("the planner's keys (inputs written as text, components made when asked) are taskKey of its components", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-keys-'));
    try {
      fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
      fs.writeFileSync(path.join(dir, 's.ts'), 'export const s = 1;\n');
      const m = path.join(dir, 's.ts');
      const a = stage('a', { module: m, matrix: { x: 'xs' }, outputs: { o1: { kind: 'json' }, o2: { kind: 'json' }, 'é': { kind: 'json' } } });
      const b = stage('b', { module: m, matrix: { x: 'xs' }, outputs: { p: { kind: 'json' } } });
      // c reads a twice (one output, then all of them: the last reads count), b whole; d one output of each a.
      const c = stage('c', { module: m, params: ['n'], perExperiment: true, needs: [{ stage: 'b', on: {} }, { stage: 'a', on: {}, outputs: ['o2'] }, { stage: 'a', on: {} }] });
      const d = stage('d', { module: m, matrix: { x: 'xs' }, needs: [{ stage: 'a', outputs: ['o1', 'é'] }, { stage: 'b' }] });
      const graph = buildGraph([a, b, c, d], { xs: ['z', 10, 9], n: { k: [1, 'two'] } });
      const project: Project = { name: 't', module: m, root: dir, stages: [a, b, c, d], experimentsDir: dir, defaultExperiment: 'e', experimentSchema: {}, cacheEnvVar: 'T_CACHE', defaultCacheDir: '.cache' };
      const planner = new Planner(project, new Store(path.join(dir, 'store'), { readOnly: true }), { name: 'e+1', base: 'e', overrides: { n: 2 } });
      await planner.prepare([a, b, c, d]);
      const h = (s: string): ContentHash => createHashHex(s) as ContentHash;
      const outs = (t: { id: string; stage: StageDecl }) => Object.fromEntries(Object.keys(t.stage.outputs).map((o) => [o, { hash: h(t.id + o), size: 1 }]));
      for (const task of graph.tasks) {
        const r = planner.resolveNow(task, outs)!;
        assert.equal(r.key, taskKey(r.components), task.id);
        assert.deepEqual(Object.keys(r.components.inputs).sort(), [...new Set(task.deps.map((t) => t.id))].sort());
      }
      const cTask = graph.byId.get('c')!;
      assert.deepEqual(Object.keys(planner.resolveNow(cTask, outs)!.components.inputs['a@10']!).sort(), ['o1', 'o2', 'é']);
      assert.deepEqual(Object.keys(planner.resolveNow(graph.byId.get('d@9')!, outs)!.components.inputs['a@9']!).sort(), ['o1', 'é']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('code fingerprints ignore comments and whitespace but see code and imported modules', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-fp-'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    const write = (name: string, text: string): string => { fs.writeFileSync(path.join(dir, name), text); return path.join(dir, name); };
    write('helper.ts', 'export const k = 2;\n');
    const fp = async (src: string, file: string): Promise<string> => (await codeFingerprint(write(file, src), dir)).code;
    const a = await fp("import { k } from './helper.ts';\nexport const f = (x: number) => x * k;\n", 'a.ts');
    const b = await fp("// why: doubling\nimport { k } from './helper.ts';\n\n\nexport const f = (x: number) =>   x * k; /* note */\n", 'b.ts');
    const c = await fp("import { k } from './helper.ts';\nexport const f = (x: number) => x * k + 1;\n", 'c.ts');
    assert.equal(a, b);
    assert.notEqual(a, c);
    write('helper.ts', 'export const k = 3;\n');
    const d = await fp("import { k } from './helper.ts';\nexport const f = (x: number) => x * k;\n", 'd.ts');
    assert.notEqual(a, d, 'an edit of an imported module changes the fingerprint');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fingerprints are the same from any working directory and in a copy of the project at another path', async () => {
    const make = (): string => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-fp-'));
      fs.mkdirSync(path.join(dir, 'lib'));
      fs.mkdirSync(path.join(dir, 'data'));
      fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
      fs.writeFileSync(path.join(dir, 'data/s.json'), '{"a": 1}');
      // a dynamic import makes esbuild name modules by path inside the bundle
      fs.writeFileSync(path.join(dir, 'lib/h.ts'), 'export const k = 2;\n');
      fs.writeFileSync(path.join(dir, 'entry.ts'), "import { readFileSync } from 'node:fs';\nexport const s = readFileSync(new URL('./data/s.json', import.meta.url), 'utf8');\nexport const f = async () => (await import('./lib/h.ts')).k;\n");
      return dir;
    };
    const [one, two] = [make(), make()];
    const cwd = process.cwd();
    const prints: string[] = [];
    try {
      for (const [dir, at] of [[one, one], [one, '/'], [one, path.join(one, 'lib')], [two, os.tmpdir()]] as const) {
        process.chdir(at);
        prints.push(JSON.stringify(await codeFingerprint(path.join(dir, 'entry.ts'), dir)));
      }
    } finally {
      process.chdir(cwd);
    }
    assert.equal(new Set(prints).size, 1, prints.join('\n'));
    assert.deepEqual(Object.keys(JSON.parse(prints[0]!).files), ['data/s.json'], 'the data file the code reads is found');
    fs.writeFileSync(path.join(two, 'data/s.json'), '{\n  "a":    1\n}\n');
    const reformatted = await codeFingerprint(path.join(two, 'entry.ts'), two, ['data/s.json']);
    assert.equal(JSON.stringify(reformatted), prints[0], 'a formatting-only JSON edit changes nothing');
    fs.writeFileSync(path.join(two, 'data/s.json'), '{"a": 2}');
    assert.notEqual(fileHash(path.join(two, 'data/s.json')), JSON.parse(prints[0]!).files['data/s.json'], 'a content edit of a read file changes its hash');
    await assert.rejects(codeFingerprint(path.join(two, 'entry.ts'), two, ['data/none.json']), /declared file 'data\/none.json' does not exist/);
    for (const d of [one, two]) fs.rmSync(d, { recursive: true, force: true });
  });
});
