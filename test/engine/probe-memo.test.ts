// The store's memo of slow probes and of code fingerprints: a run files what it found, a read
// command (status) takes it while everything it was found from is unchanged, and probes or
// bundles again when any of that changes. Real CLI processes over the toy project.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreProbeMemo, sweepProbes } from '../../pipeline/engine/probe-memo.ts';
import { Store } from '../../pipeline/engine/store.ts';
import { makeToy, type Toy } from './toy.ts';

// gen's runtime probes a "device" (TOY_DEVICE) whose answer depends on one host fact (TOY_HOST);
// each live probe appends a line to TOY_PROBES.
const PROBING_RUNTIME = `runtime: (where, ctx) => {
    const facts = { host: process.env.TOY_HOST ?? 'a' };
    const memo = ctx?.probes;
    const filed = memo && !memo.fresh ? memo.recall('toy-device', facts) : undefined;
    if (filed !== undefined) return { device: filed };
    if (process.env.TOY_PROBES) fs.appendFileSync(process.env.TOY_PROBES, 'probe\\n');
    const device = process.env.TOY_DEVICE ?? 'd1';
    memo?.remember('toy-device', facts, device);
    return { device };
  },`;

function counts(toy: Toy, env: Record<string, string>): { cached: number; stale: number; missing: number } {
  const r = toy.cli(['status', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  return r.json.counts;
}

describe('engine: the store memo of probes and code fingerprints', function () {
  this.timeout(120_000);

  it('a read-only store recalls but never files; a writable one files; other inputs or a torn file recall nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-memo-'));
    const store = new Store(dir);
    await store.init();
    const ro = new StoreProbeMemo(new Store(dir, { readOnly: true }));
    assert.equal(ro.fresh, false);
    ro.remember('p', { a: 1 }, 'x');
    assert.equal(fs.existsSync(path.join(dir, 'probes')), false, 'a read-only store is not written');
    const rw = new StoreProbeMemo(store);
    assert.equal(rw.fresh, true);
    rw.remember('p', { a: 1, b: [1, 2] }, { core: 'Zen' });
    assert.deepEqual(ro.recall('p', { b: [1, 2], a: 1 }), { core: 'Zen' }, 'inputs compare as canonical JSON');
    assert.equal(ro.recall('p', { a: 2, b: [1, 2] }), undefined);
    assert.equal(ro.recall('q', { a: 1, b: [1, 2] }), undefined);
    const [file] = fs.readdirSync(path.join(dir, 'probes'));
    fs.writeFileSync(path.join(dir, 'probes', file!), '{"inputs": {"a": 1, "b": [1, 2]}, "val');
    assert.equal(ro.recall('p', { a: 1, b: [1, 2] }), undefined, 'a torn file is no answer');
  });

  it('status takes the probe answer a run filed; a changed host fact probes again; run always probes', () => {
    const toy = makeToy();
    const probes = path.join(toy.dir, 'probes.log');
    const probed = (): number => (fs.existsSync(probes) ? fs.readFileSync(probes, 'utf8').split('\n').filter(Boolean).length : 0);
    toy.edit('gen', (s) => s.replace("name: 'gen', module: import.meta.url,", `name: 'gen', module: import.meta.url, ${PROBING_RUNTIME}`));
    const env = { TOY_PROBES: probes };
    assert.equal(toy.cli(['run'], env).code, 0);
    const afterRun = probed();
    assert.ok(afterRun >= 1);
    assert.deepEqual(counts(toy, env), { cached: 7, stale: 0, missing: 0 });
    assert.equal(probed(), afterRun, 'status answered from the memo');
    // The device changed but no fact the probe declared did: the memo stands (which is why the
    // facts must be everything the answer depends on).
    assert.deepEqual(counts(toy, { ...env, TOY_DEVICE: 'd2' }), { cached: 7, stale: 0, missing: 0 });
    assert.equal(probed(), afterRun);
    // A changed fact: probed again, and the new device makes gen and everything after it stale.
    assert.deepEqual(counts(toy, { ...env, TOY_DEVICE: 'd2', TOY_HOST: 'b' }), { cached: 0, stale: 7, missing: 0 });
    const afterChange = probed();
    assert.ok(afterChange > afterRun);
    // A run probes afresh even where the memo has an answer.
    assert.equal(toy.cli(['run', '--dry-run'], env).code, 0);
    assert.equal(toy.cli(['run'], env).code, 0);
    assert.ok(probed() > afterChange);
  });

  it('status takes the code fingerprint a run filed only while every file it came from is unchanged', async () => {
    const toy = makeToy();
    // Files changed within 2 s of a bundle are not trusted to be what esbuild read: let the new toy age.
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal(toy.cli(['run']).code, 0);
    assert.deepEqual(counts(toy, {}), { cached: 7, stale: 0, missing: 0 });
    const dir = path.join(toy.cache, 'probes');
    const filed = fs.readdirSync(dir).filter((f) => f.startsWith('code-')).map((f) => path.join(dir, f));
    const entryOf = (f: string): string => JSON.parse(fs.readFileSync(f, 'utf8')).inputs.entry;
    // One per stage module, and the project module's (what a run's plan is filed under: proven-plan.ts).
    assert.deepEqual(filed.map(entryOf).map((e) => path.relative(toy.dir, e)).sort(), ['project.ts', 'stages/gen.ts', 'stages/square.ts', 'stages/total.ts']);
    const genFile = filed.find((f) => entryOf(f).endsWith('stages/gen.ts'))!;
    const entry = JSON.parse(fs.readFileSync(genFile, 'utf8'));
    assert.ok(entry.value.signatures['stages/gen.ts'] && entry.value.signatures['data/bias.json'] && 'tsconfig.json' in entry.value.signatures,
      `the module, the data file it reads and esbuild's settings are checked: ${Object.keys(entry.value.signatures)}`);
    // A filed fingerprint that is not the code's: status uses it (so gen and all after it read stale)...
    entry.value.fingerprint.code = '0'.repeat(64);
    fs.writeFileSync(genFile, JSON.stringify(entry));
    assert.deepEqual(counts(toy, {}), { cached: 0, stale: 7, missing: 0 });
    // ...until any file it was computed from changes, even only its times: then it bundles again.
    const now = new Date();
    fs.utimesSync(path.join(toy.dir, 'data/bias.json'), now, now);
    assert.deepEqual(counts(toy, {}), { cached: 7, stale: 0, missing: 0 });
    // A run bundles whatever the memo holds, and status agrees with it.
    toy.resetLog();
    assert.equal(toy.cli(['run']).code, 0);
    assert.deepEqual(toy.executions(), [], 'nothing ran: the keys status computed are the run\'s');
    assert.deepEqual(counts(toy, {}), { cached: 7, stale: 0, missing: 0 });
  });

  it('gc keeps the newest answer per probe (per entry for code) and removes older and torn ones; a confirmed answer counts as new', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakcorr-memo-gc-'));
    const store = new Store(dir);
    await store.init();
    const memo = new StoreProbeMemo(store);
    const probes = path.join(dir, 'probes');
    const age = (secondsAgo: number): void => {
      const t = new Date(Date.now() - secondsAgo * 1000);
      for (const f of fs.readdirSync(probes)) if (!ages.has(f)) (ages.add(f), fs.utimesSync(path.join(probes, f), t, t));
    };
    const ages = new Set<string>();
    memo.remember('blas', { lib: 'v1' }, 'Haswell');
    age(300);
    memo.remember('code', { entry: 'stages/a.ts', v: 1 }, 'fa1');
    memo.remember('code', { entry: 'stages/b.ts', v: 1 }, 'fb1');
    age(200);
    memo.remember('blas', { lib: 'v2' }, 'Zen');
    memo.remember('code', { entry: 'stages/a.ts', v: 2 }, 'fa2');
    age(100);
    fs.writeFileSync(path.join(probes, 'blas-torn.json'), '{"name": "bl');
    const fileOf = (name: string, inputs: object): string =>
      fs.readdirSync(probes).map((f) => path.join(probes, f)).find((f) => { try { return JSON.stringify(JSON.parse(fs.readFileSync(f, 'utf8')).inputs) === JSON.stringify(inputs) && f.includes(name); } catch { return false; } })!;
    const oldBlas = fileOf('blas', { lib: 'v1' });
    const oldA = fileOf('code', { entry: 'stages/a.ts', v: 1 });
    const torn = path.join(probes, 'blas-torn.json');
    // A dry run names them and removes nothing.
    assert.deepEqual(sweepProbes(store, false), [oldBlas, torn, oldA].sort());
    assert.equal(fs.readdirSync(probes).length, 6);
    // v1 comes back (the user reverted the library) and a run confirms it: now v2 is the outdated one.
    memo.remember('blas', { lib: 'v1' }, 'Haswell');
    const newBlas = fileOf('blas', { lib: 'v2' });
    assert.deepEqual(sweepProbes(store, true), [newBlas, torn, oldA].sort());
    const ro = new StoreProbeMemo(new Store(dir, { readOnly: true }));
    assert.equal(ro.recall('blas', { lib: 'v1' }), 'Haswell');
    assert.equal(ro.recall('code', { entry: 'stages/a.ts', v: 2 }), 'fa2');
    assert.equal(ro.recall('code', { entry: 'stages/b.ts', v: 1 }), 'fb1', 'another entry\'s fingerprint is kept');
    assert.equal(ro.recall('blas', { lib: 'v2' }), undefined);
    assert.deepEqual(sweepProbes(store, true), [], 'nothing left to sweep');
  });

  it('`gc` sweeps the probe memo and says how many answers it removed', () => {
    const toy = makeToy();
    assert.equal(toy.cli(['run']).code, 0);
    // Two answers of one probe for different inputs (another library, say): the older one goes.
    const dir = path.join(toy.cache, 'probes');
    fs.mkdirSync(dir, { recursive: true });
    const answer = (file: string, lib: string, secondsAgo: number): string => {
      const p = path.join(dir, file);
      fs.writeFileSync(p, JSON.stringify({ name: 'toy-blas', inputs: { lib }, value: 'core' }));
      const t = new Date(Date.now() - secondsAgo * 1000);
      fs.utimesSync(p, t, t);
      return p;
    };
    const old = answer('toy-blas-old.json', 'v1', 120);
    const current = answer('toy-blas-new.json', 'v2', 60);
    const dry = toy.cli(['gc', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.json.removedProbes, 1);
    assert.ok(dry.json.removed.includes(old));
    assert.ok(fs.existsSync(old));
    const r = toy.cli(['gc']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 outdated probe answer\(s\)/);
    assert.equal(fs.existsSync(old), false);
    assert.ok(fs.existsSync(current));
    assert.deepEqual(counts(toy, {}), { cached: 7, stale: 0, missing: 0 });
  });
});
