// Keys that hold from any directory and clone, data files in keys, variants that never clobber,
// and the commands a DVC/Snakemake user reaches for: all through the real CLI on the toy project.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { makeToy, REPO, type Toy } from './toy.ts';
import { staleReasons } from '../../pipeline/engine/planner.ts';
import type { TaskRecord } from '../../pipeline/engine/store.ts';
import type { KeyComponents } from '../../pipeline/engine/fingerprint.ts';

const cliSchema = JSON.parse(fs.readFileSync(path.join(REPO, 'schemas/cli.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema(cliSchema);
function conforms(def: string, value: unknown): void {
  const validate = ajv.getSchema(`weakcorr/cli#/$defs/${def}`)!;
  assert.ok(validate(value), `${def}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
}

function runOk(toy: Toy, args: string[] = [], env?: Record<string, string>): { executed: string[]; json: any; stderr: string } {
  toy.resetLog();
  const r = toy.cli(['run', '--json', ...args], env);
  assert.equal(r.code, 0, `run failed: ${r.stderr}`);
  return { executed: [...toy.executions()].sort(), json: r.json, stderr: r.stderr };
}

describe('engine: keys from any directory and any clone', function () {
  this.timeout(120_000);
  let toy: Toy;
  let copy: string | undefined;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3], scale: 2 });
    runOk(toy);
  });
  afterEach(() => {
    fs.rmSync(toy.dir, { recursive: true, force: true });
    if (copy) fs.rmSync(copy, { recursive: true, force: true });
  });

  it('one store is fully cached from the root, from /, from a subfolder, and from a copy of the project at another path', () => {
    for (const cwd of [toy.dir, '/', path.join(toy.dir, 'stages')]) {
      const st = toy.cli(['status', '--json'], {}, cwd).json;
      assert.equal(st.counts.cached, 7, `from ${cwd}: ${JSON.stringify(st.tasks.filter((t: { state: string }) => t.state !== 'cached'))}`);
    }
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-clone-'));
    for (const sub of ['stages', 'experiments', 'data']) fs.cpSync(path.join(toy.dir, sub), path.join(copy, sub), { recursive: true });
    for (const f of ['package.json', 'project.ts']) fs.copyFileSync(path.join(toy.dir, f), path.join(copy, f));
    const st = toy.cli(['status', '--json'], { WEAKCORR_PROJECT: path.join(copy, 'project.ts') }, os.tmpdir()).json;
    assert.equal(st.counts.cached, 7, 'a second clone at another path shares the store');
  });

  it('the default store is found from the project root, not the working directory', () => {
    const env = { WEAKCORR_CACHE: '' };
    runOk(toy, [], env);
    assert.ok(fs.existsSync(path.join(toy.dir, '.cache/tasks')), 'default store under the project root');
    const st = toy.cli(['status', '--json'], env, path.join(toy.dir, 'stages')).json;
    assert.equal(st.counts.cached, 7);
  });

  it('a data file the code reads enters the key: editing it makes exactly its readers stale; a formatting-only edit does not', () => {
    fs.writeFileSync(path.join(toy.dir, 'data/bias.json'), '{\n  "bias":   0\n}\n');
    assert.equal(toy.cli(['status', '--json']).json.counts.cached, 7, 'reformatting JSON changes nothing');
    fs.writeFileSync(path.join(toy.dir, 'data/bias.json'), '{"bias": 1}\n');
    const st = toy.cli(['status', '--json']).json;
    const stale = st.tasks.filter((t: { state: string }) => t.state !== 'cached').map((t: { id: string }) => t.id).sort();
    assert.deepEqual(stale, ['gen@i1', 'gen@i2', 'gen@i3', 'square@i1', 'square@i2', 'square@i3', 'total']);
    assert.deepEqual(st.tasks.find((t: { id: string }) => t.id === 'gen@i1').reasons, ['file data/bias.json changed']);
    assert.match(st.tasks.find((t: { id: string }) => t.id === 'square@i1').reasons[0], /input gen@i1 is stale/);
    assert.deepEqual(runOk(toy).executed, ['gen@i1', 'gen@i2', 'gen@i3', 'square@i1', 'square@i2', 'square@i3', 'total']);
  });

  it('a file named in `files:` enters the key of that stage only', () => {
    fs.writeFileSync(path.join(toy.dir, 'data/table.txt'), 'v1');
    toy.edit('total', (s) => s.replace("params: [],", "params: [], files: ['data/table.txt'],"));
    assert.deepEqual(runOk(toy).executed, ['total']);
    fs.writeFileSync(path.join(toy.dir, 'data/table.txt'), 'v2');
    const st = toy.cli(['status', '--json']).json;
    assert.deepEqual(st.tasks.filter((t: { state: string }) => t.state !== 'cached').map((t: { id: string; reasons: string[] }) => [t.id, t.reasons]), [['total', ['file data/table.txt changed']]]);
  });
});

describe('engine: variants, stale reasons and the user commands', function () {
  this.timeout(120_000);
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3], scale: 2 });
    runOk(toy);
  });
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('--set runs a variant that publishes beside the canonical output, never over it', () => {
    const canonical = path.join(toy.dir, 'out/default/sum.json');
    const before = fs.readFileSync(canonical, 'utf8');
    const r = runOk(toy, ['--set', 'offset=1']);
    assert.match(r.json.experiment, /^default\+[0-9a-f]{8}$/);
    assert.equal(fs.readFileSync(canonical, 'utf8'), before);
    const variantOut = path.join(toy.dir, 'out', r.json.experiment, 'sum.json');
    assert.equal(JSON.parse(fs.readFileSync(variantOut, 'utf8')).sum, 4 + 16 + 36 + 3);
    assert.deepEqual(r.json.published, [variantOut]);
    assert.match(r.stderr, /published: out\/default\+[0-9a-f]{8}\/sum\.json/);
    // The same overrides in another order are the same variant.
    assert.equal(runOk(toy, ['--set', 'note=x', '--set', 'offset=1']).json.experiment, runOk(toy, ['--set', 'offset=1', '--set', 'note=x']).json.experiment);
    // The unmodified experiment is still all cached, and its stale reasons compare with its own records.
    assert.equal(toy.cli(['status', '--json']).json.counts.cached, 7);
    toy.writeConfig({ items: [1, 2, 3], scale: 2, offset: 2 });
    const sq = toy.cli(['status', '--json']).json.tasks.find((t: { id: string }) => t.id === 'square@i1');
    assert.deepEqual(sq.reasons, ['param offset 0 -> 2']);
  });

  it('--name names a variant; a name that is an experiment, or --name without --set, is a usage error', () => {
    const r = runOk(toy, ['--set', 'offset=1', '--name', 'shifted']);
    assert.equal(r.json.experiment, 'shifted');
    assert.ok(fs.existsSync(path.join(toy.dir, 'out/shifted/sum.json')));
    const clash = toy.cli(['run', '--set', 'offset=1', '--name', 'default']);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /--name default: an experiment config of that name exists/);
    const bare = toy.cli(['run', '--name', 'x']);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /--name x: names a variant made with --set/);
  });

  it('many changed inputs are summarized per upstream stage, and no reason line runs long', () => {
    const inputs = (h: string): Record<string, Record<string, string>> =>
      Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`train-a2@a0,w${i},s0`, { result: h }]));
    const prev = { params: {}, code: 'c', files: {}, inputs: inputs('a'), runtime: { big: 'x'.repeat(1000) } } as unknown as TaskRecord;
    const now: KeyComponents = { stage: 'fit', code: 'c', files: {}, params: {}, inputs: inputs('b'), runtime: { big: 'y'.repeat(1000) }, axes: {} };
    const reasons = staleReasons(prev, now);
    assert.equal(reasons[0], '24 inputs of train-a2 changed');
    assert.ok(reasons.every((r) => r.length <= 160), reasons.join('\n'));
  });

  it('status and run --dry-run count per stage first; -v lists each task and why', () => {
    toy.writeConfig({ items: [1, 2, 3], scale: 2, offset: 5 });
    const st = toy.cli(['status']);
    assert.match(st.stdout, /^stage\s+tasks\s+cached\s+stale\s+missing\ngen\s+3\s+3\s+0\s+0\nsquare\s+3\s+0\s+3\s+0\ntotal\s+1\s+0\s+1\s+0\n/);
    assert.doesNotMatch(st.stdout, /param offset/);
    assert.match(toy.cli(['status', '-v']).stdout, /stale {3}square@i1 {2}param offset 0 -> 5/);
    const dry = toy.cli(['run', '--dry-run']);
    assert.match(dry.stdout, /^stage\s+tasks\s+run\s+cached\ngen\s+3\s+0\s+3\nsquare\s+3\s+3\s+0\n/);
    assert.match(toy.cli(['run', '--dry-run', '-v']).stdout, /run {7}square@i2 {2}\(param offset 0 -> 5\)/);
    const json = toy.cli(['status', '--json']).json;
    conforms('status', json);
    conforms('dryRun', toy.cli(['run', '--dry-run', '--json']).json);
  });

  it('--version, and "did you mean" for stages, tasks, experiments and config keys', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    const v = toy.cli(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^toy /);
    conforms('version', toy.cli(['version', '--json']).json);
    assert.ok(pkg.version);
    const stage = toy.cli(['run', 'sqare']);
    assert.equal(stage.code, 2);
    assert.match(stage.stderr, /unknown stage 'sqare'; did you mean: square\?/);
    assert.match(toy.cli(['why', 'square@1']).stderr, /no task 'square@1' in this experiment; did you mean: square@i1/);
    assert.match(toy.cli(['status', '--experiment', 'defualt']).stderr, /experiment 'defualt' not found .*did you mean: default\?/);
    const key = toy.cli(['run', '--set', 'ofset=3']);
    assert.equal(key.code, 2);
    assert.match(key.stderr, /--set ofset=3: \/ has unknown key 'ofset'; did you mean: offset\?/);
    assert.doesNotMatch(toy.cli(['run', '--set', 'nokey']).stderr, /train\.steps/, 'the example names no key the config rejects');
  });

  it('experiments lists every config and the variants this store ran, with task counts and state', () => {
    fs.writeFileSync(path.join(toy.dir, 'experiments/other.json'), JSON.stringify({ items: [7], scale: 1 }));
    runOk(toy, ['--set', 'offset=1']);
    const r = toy.cli(['experiments', '--json']);
    assert.equal(r.code, 0, r.stderr);
    conforms('experiments', r.json);
    const by = Object.fromEntries(r.json.experiments.map((e: { name: string }) => [e.name, e]));
    assert.equal(by.default.state, 'built');
    assert.equal(by.default.tasks, 7);
    assert.equal(by.other.state, 'not built');
    const variant = r.json.experiments.find((e: { name: string }) => e.name.startsWith('default+'));
    assert.deepEqual(variant.overrides, { offset: 1 });
    assert.match(toy.cli(['experiments']).stdout, /default\s+7\s+7\s+built/);
  });

  it('results prints every declared metric of cached tasks as one tidy table in md, csv and json', () => {
    const json = toy.cli(['results', '--format', 'json']).json ?? JSON.parse(toy.cli(['results', '--format', 'json']).stdout);
    conforms('results', json);
    assert.deepEqual(json.columns, ['stage', 'task', 'item', 'metric', 'value']);
    const rows = json.rows.map((r: { task: string; item: number | null; metric: string; value: number }) => `${r.task} ${r.item} ${r.metric} ${r.value}`).sort();
    assert.deepEqual(rows, ['square@i1 1 value 4', 'square@i2 2 value 16', 'square@i3 3 value 36', 'total null sum 56']);
    assert.deepEqual(json.verdicts, [], 'the toy judges no claims');
    const csv = toy.cli(['results', '--format', 'csv']).stdout.trim().split('\n');
    assert.equal(csv[0], 'stage,task,item,metric,value');
    assert.ok(csv.includes('total,total,,sum,56'));
    assert.ok(csv.includes('square,square@i2,2,value,16'));
    const md = toy.cli(['results', 'total']).stdout;
    assert.match(md, /^\| stage \| task \| metric \| value \|\n\|---\|---\|---\|---\|\n\| total \| total \| sum \| 56 \|\n$/);
    assert.equal(toy.cli(['results', '--format', 'xml']).code, 2);
    assert.equal(toy.cli(['results', '--table', 'claims']).code, 2);
  });

  it('diff shows the changed config values and how each headline metric moved', () => {
    runOk(toy, ['--set', 'offset=1']);
    const variant = toy.cli(['experiments', '--json']).json.experiments.find((e: { name: string }) => e.name.startsWith('default+')).name;
    for (const args of [['diff', 'default', variant, '--json'], ['diff', 'default', 'default', '--set', 'offset=1', '--json']]) {
      const r = toy.cli(args);
      assert.equal(r.code, 0, r.stderr);
      conforms('diff', r.json);
      assert.deepEqual(r.json.params, [{ key: 'offset', a: 0, b: 1 }]);
      assert.deepEqual(r.json.metrics, [{ task: 'total', metric: 'sum', a: 56, b: 59, delta: 3 }]);
    }
    assert.match(toy.cli(['diff', 'default', variant]).stdout, /offset {2}0 -> 1\nheadline metrics that moved:\n {2}total {2}sum {2}56 -> 59 {2}\(\+3\)/);
  });

  it('gc --keep removes what no kept experiment needs; --dry-run removes nothing', () => {
    runOk(toy, ['--set', 'offset=1']);
    const recordsBefore = fs.readdirSync(path.join(toy.cache, 'tasks')).length;
    const dry = toy.cli(['gc', '--keep', 'default', '--dry-run', '--json']).json;
    conforms('gc', dry);
    assert.equal(dry.removedRecords, 4, 'the variant\'s square x3 and total');
    assert.equal(fs.readdirSync(path.join(toy.cache, 'tasks')).length, recordsBefore);
    const real = toy.cli(['gc', '--keep', 'default', '--json']).json;
    assert.equal(real.removedRecords, 4);
    assert.equal(fs.readdirSync(path.join(toy.cache, 'tasks')).length, recordsBefore - 4);
    assert.deepEqual(runOk(toy).executed, []);
  });

  it('a partial experiment file extends another and overrides only what it names', () => {
    fs.writeFileSync(path.join(toy.dir, 'experiments/bigger.json'), JSON.stringify({ extends: 'default', scale: 3 }));
    const r = runOk(toy, ['--experiment', 'bigger']);
    assert.deepEqual(r.executed, ['gen@i1', 'gen@i2', 'gen@i3', 'square@i1', 'square@i2', 'square@i3', 'total']);
    assert.equal(JSON.parse(fs.readFileSync(path.join(toy.dir, 'out/bigger/sum.json'), 'utf8')).sum, 9 + 36 + 81);
    fs.writeFileSync(path.join(toy.dir, 'experiments/loop.json'), JSON.stringify({ extends: 'loop2' }));
    fs.writeFileSync(path.join(toy.dir, 'experiments/loop2.json'), JSON.stringify({ extends: 'loop' }));
    const loop = toy.cli(['status', '--experiment', 'loop']);
    assert.equal(loop.code, 2);
    assert.match(loop.stderr, /"extends" forms a cycle/);
  });

  it('--jobs defaults to the number of cores', () => {
    assert.match(toy.cli(['run', '--help']).stdout, /default:\s+the number\s+of cores/);
    toy.writeConfig({ items: [1, 2, 3, 4], scale: 2 });
    assert.match(toy.cli(["run"]).stderr, new RegExp(`: \\d+ task\\(s\\), ${os.availableParallelism()} job\\(s\\)`));
  });
});
