// A no-op proven from the plan a complete run left (proven-plan.ts): it must say exactly what a
// planned no-op says, and give way to planning in full on any change a planned no-op would see.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { makeToy, REPO, type Toy } from './toy.ts';

const planFile = (toy: Toy): string => path.join(toy.cache, 'index', 'default', 'plan.tsv');
/** The plan file's inode and mtime: a planned run writes it anew (a rename), a proven no-op leaves it. */
const planStamp = (toy: Toy): string => {
  const st = fs.statSync(planFile(toy));
  return `${st.ino}:${st.mtimeMs}`;
};

function run(toy: Toy, args: string[] = []): { json: any; stderr: string; executed: string[] } {
  toy.resetLog();
  const r = toy.cli(['run', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  const { durationMs: _d, ...json } = r.json;
  return { json, stderr: r.stderr, executed: toy.executions() };
}

/**
 * What `prove` says of the toy's store now, asked in a fresh process (as each command is: code
 * fingerprints are kept for the life of a process).
 */
function proven(toy: Toy): boolean {
  return provenScript(toy, `process.stdout.write(plan ? 'proven' : 'not proven');`) === 'proven';
}

/** Runs `then` (JavaScript: `plan`, `planner`, `store` in scope) after proving the toy's plan, in a fresh process; its stdout. */
function provenScript(toy: Toy, then: string, readOnly = true): string {
  const engine = (m: string): string => JSON.stringify(pathToFileURL(path.join(REPO, 'pipeline/engine', m)).href);
  const script = `
    import { loadExperiment } from ${engine('config.ts')};
    import { Planner } from ${engine('planner.ts')};
    import { planDigest, prove, readPlan, runProven } from ${engine('proven-plan.ts')};
    import { makeReporter } from ${engine('reporter.ts')};
    import { Store } from ${engine('store.ts')};
    import { variantOf } from ${engine('variant.ts')};
    const { project } = await import(${JSON.stringify(pathToFileURL(path.join(toy.dir, 'project.ts')).href)});
    const store = new Store(${JSON.stringify(toy.cache)}, { readOnly: ${readOnly} });
    const exp = loadExperiment('default', project.experimentsDir, project.experimentSchema, []);
    const planner = new Planner(project, store, variantOf(exp.name, [], undefined, ['default']));
    const file = readPlan(store, project.stages, 'default');
    const plan = file && (await prove(planner, file, await planDigest(planner, exp, [], file.stages)));
    ${then}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: REPO, env: { ...process.env, CI: '1' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('proven plan: a no-op without the graph', function () {
  this.timeout(180_000);
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3, 4], scale: 2 });
    assert.equal(run(toy).executed.length, 9);
  });
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('says what a planned no-op says (run --json, status --json), and leaves the plan file as it was', () => {
    const stamp = planStamp(toy);
    const fast = run(toy);
    assert.equal(planStamp(toy), stamp, 'proven: the plan file was not written again');
    assert.deepEqual(fast.executed, []);
    const statusFast = toy.cli(['status', '--json']);
    // Planned in full: --verify for run; without a plan file for status.
    const planned = run(toy, ['--verify']);
    assert.notEqual(planStamp(toy), stamp, 'a planned run writes its plan');
    assert.deepEqual(fast.json, planned.json);
    assert.equal(fast.json.cached, 9);
    assert.deepEqual(fast.json.published, [path.join(toy.dir, 'out', 'default', 'sum.json')]);
    fs.rmSync(planFile(toy));
    const statusPlanned = toy.cli(['status', '--json']);
    assert.equal(statusFast.code, 0);
    assert.deepEqual(statusFast.json, statusPlanned.json);
    assert.equal(statusFast.stdout, statusPlanned.stdout, 'byte for byte');
    assert.equal(statusFast.json.counts.cached, 9);
  });

  it('still puts a published output back in place', () => {
    const out = path.join(toy.dir, 'out', 'default', 'sum.json');
    const bytes = fs.readFileSync(out);
    fs.rmSync(out);
    const stamp = planStamp(toy);
    assert.deepEqual(run(toy).executed, []);
    assert.equal(planStamp(toy), stamp);
    assert.deepEqual(fs.readFileSync(out), bytes);
  });

  it("gives way to planning in full when a published output's blob goes between the proof and the run's lease (a gc --keep of another experiment)", () => {
    const out = provenScript(toy, `
      const [blob] = plan.publishing.flatMap((p) => Object.values(p.outputs)).map((o) => store.blobs.path(o.hash));
      (await import('node:fs')).rmSync(blob); // what gc could sweep before the lease is held
      const summary = await runProven(planner, plan, { jobs: 1, reporter: makeReporter('toy') });
      process.stdout.write(summary === undefined ? 'plan in full' : 'ran proven');`, false);
    assert.equal(out, 'plan in full');
    // The next command plans in full (the proof fails on the missing blob): its producer runs again and publishes.
    fs.rmSync(path.join(toy.dir, 'out', 'default', 'sum.json'));
    assert.deepEqual(run(toy).executed, ['total']);
    assert.ok(fs.existsSync(path.join(toy.dir, 'out', 'default', 'sum.json')));
  });

  it('fails on each change a planned no-op would see, and the command then plans in full', () => {
    assert.equal(proven(toy), true);
    const tasks = path.join(toy.cache, 'tasks');

    // A record touched (its signature changed): the planned lookup reads it in full.
    const rec = path.join(tasks, fs.readdirSync(tasks)[0]!);
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(rec, t, t);
    assert.equal(proven(toy), false, 'a touched record');
    assert.deepEqual(run(toy).executed, []);
    assert.equal(proven(toy), true, 'the planned run wrote a plan for the record as it is');

    // A blob deleted: its producer runs again.
    const sq = run(toy, ['--verify']).json.tasks.find((x: { id: string }) => x.id === 'square@i2');
    const record = JSON.parse(fs.readFileSync(path.join(tasks, `${sq.key}.json`), 'utf8'));
    fs.rmSync(path.join(toy.cache, 'objects', record.outputs.value.hash));
    assert.equal(proven(toy), false, 'a deleted blob');
    assert.deepEqual(run(toy).executed, ['square@i2']);
    assert.equal(proven(toy), true);

    // The config, and a stage's code: the digest differs.
    toy.writeConfig({ items: [1, 2, 3, 4], scale: 2, offset: 1 });
    assert.equal(proven(toy), false, 'a config value changed');
    assert.ok(run(toy).executed.includes('square@i1'), 'square runs again');
    assert.equal(proven(toy), true);
    toy.edit('gen', (s) => s.replace("'toy failure for item '", "'toy failure, item '"));
    assert.equal(proven(toy), false, "a stage's code changed");
    run(toy);
    assert.equal(proven(toy), true);

    // The plan file cut short, or a line of it changed: never trusted.
    const text = fs.readFileSync(planFile(toy), 'latin1');
    fs.writeFileSync(planFile(toy), text.slice(0, -40), 'latin1');
    assert.equal(proven(toy), false, 'cut short');
    const lines = text.split('\n');
    lines[2] = lines[2]!.replace(/\t[0-9a-f]{64}\t/, (k) => `\t${'0'.repeat(64)}\t`);
    fs.writeFileSync(planFile(toy), lines.join('\n'), 'latin1');
    assert.equal(proven(toy), false, 'a key changed');
    fs.writeFileSync(planFile(toy), text.replace(/\tvalue\t/, '\tvalu\t'), 'latin1');
    assert.equal(proven(toy), false, 'an output renamed');
    fs.writeFileSync(planFile(toy), text, 'latin1');
    assert.equal(proven(toy), true, 'restored');
  });

  it('a run that did not complete leaves no plan of itself', () => {
    toy.writeConfig({ items: [1, 2, 3, 4], scale: 2, fail: [3] });
    const r = toy.cli(['run', '--json']);
    assert.equal(r.code, 1, r.stderr);
    fs.rmSync(planFile(toy));
    assert.equal(toy.cli(['run']).code, 1);
    assert.equal(fs.existsSync(planFile(toy)), false);
    toy.writeConfig({ items: [1, 2, 3, 4], scale: 2 });
    assert.equal(toy.cli(['run']).code, 0);
    assert.equal(fs.existsSync(planFile(toy)), true);
  });
});
