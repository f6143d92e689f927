// The store survives what happens to it: hostile records, gc beside a run, read-only commands,
// and the checks that belong before anything runs. Real CLI processes over the toy project.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeToy, REPO, type Toy } from './toy.ts';

const sorted = (xs: string[]): string[] => [...xs].sort();

function runOk(toy: Toy, args: string[] = [], env?: Record<string, string>): { executed: string[]; json: any; stderr: string } {
  toy.resetLog();
  const r = toy.cli(['run', '--json', ...args], env);
  assert.equal(r.code, 0, `run failed: ${r.stderr}`);
  return { executed: sorted(toy.executions()), json: r.json, stderr: r.stderr };
}

/** Every path under `dir` with its content hash (files) or '/' (folders), and its mtime. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isDirectory()) {
        out[rel] = `/ ${st.mtimeMs}`;
        walk(p);
      } else out[rel] = `${createHash('sha256').update(fs.readFileSync(p)).digest('hex')} ${st.mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

const count = (s: string, needle: string): number => s.split(needle).length - 1;

/** The record file of a task, found through `why` (its key). */
function recordOf(toy: Toy, id: string): string {
  const key = toy.cli(['why', id, '--json']).json.key as string;
  assert.match(key, /^[0-9a-f]{64}$/);
  return path.join(toy.cache, 'tasks', `${key}.json`);
}

describe('store: hostile and damaged records', function () {
  this.timeout(180_000);
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3], scale: 2 });
    runOk(toy);
  });
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('a record that parses but is wrong ({"key":"oops"}) is reported once by path; read-only commands change nothing; run sets it aside and recomputes', () => {
    const rec = recordOf(toy, 'square@i2');
    fs.writeFileSync(rec, '{"key":"oops"}\n');
    const before = snapshot(toy.cache);
    for (const args of [['status'], ['status', '--json'], ['why', 'square@i2'], ['show', 'total'], ['dag'], ['run', '--dry-run'], ['gc', '--dry-run']]) {
      const r = toy.cli(args);
      assert.ok(r.code === 0, `${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, `${args.join(' ')}: ${r.stderr}`);
      if (args[0] !== 'dag') assert.equal(count(r.stderr, rec), 1, `${args.join(' ')} names the record once: ${r.stderr}`);
    }
    const show = toy.cli(['show', 'square@i2']);
    assert.equal(show.code, 2, show.stderr);
    assert.doesNotMatch(show.stderr, /internal error|\n\s+at /);
    assert.deepEqual(snapshot(toy.cache), before, 'status, why, show, dag, run --dry-run and gc --dry-run wrote nothing');

    const st = toy.cli(['status', '--json']).json;
    assert.equal(st.tasks.find((t: { id: string }) => t.id === 'square@i2').state, 'missing');
    const r = runOk(toy);
    assert.deepEqual(r.executed, ['square@i2'], 'only its task is recomputed (same output: total stays cached)');
    assert.equal(count(r.stderr, rec), 1, r.stderr);
    const quarantined = fs.readdirSync(path.join(toy.cache, 'quarantine'));
    assert.equal(quarantined.length, 1);
    assert.equal(fs.readFileSync(path.join(toy.cache, 'quarantine', quarantined[0]!), 'utf8'), '{"key":"oops"}\n', 'set aside, not deleted');
    assert.equal(JSON.parse(fs.readFileSync(rec, 'utf8')).id, 'square@i2', 'a valid record replaced it');
    assert.deepEqual(runOk(toy).executed, []);
  });

  it('an output renamed in a record is not "cached": status says so, run recomputes it and the downstream task succeeds', () => {
    const rec = recordOf(toy, 'square@i3');
    const body = JSON.parse(fs.readFileSync(rec, 'utf8'));
    body.outputs.valu = body.outputs.value;
    delete body.outputs.value;
    fs.writeFileSync(rec, JSON.stringify(body));
    const st = toy.cli(['status', '--json']);
    assert.equal(st.json.tasks.find((t: { id: string }) => t.id === 'square@i3').state, 'missing');
    assert.match(st.stderr, /undeclared output\(s\) valu; missing output\(s\) value/);
    assert.deepEqual(runOk(toy, ['--force', 'total']).executed, ['square@i3', 'total']);
  });

  it('an unparsable record is reported by path, not silently treated as absent', () => {
    const rec = recordOf(toy, 'gen@i1');
    fs.writeFileSync(rec, '{"key": "trunc');
    const st = toy.cli(['status']);
    assert.equal(st.code, 0);
    assert.match(st.stderr, new RegExp(`invalid task record ${rec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON`));
    assert.deepEqual(runOk(toy).executed, ['gen@i1']);
  });

  it("a hash with '../' in a record, an index entry or an input touches nothing outside the store (status, run, gc)", () => {
    const victim = path.join(toy.dir, 'victim');
    fs.writeFileSync(victim, 'precious\n');
    const victim2 = path.join(toy.dir, 'victim2.json');
    fs.writeFileSync(victim2, '{}\n');
    const rec = recordOf(toy, 'square@i2');
    const body = JSON.parse(fs.readFileSync(rec, 'utf8'));
    body.outputs.raw.hash = '../../victim'; // objects/../../victim is <toy>/victim
    fs.writeFileSync(rec, JSON.stringify(body));
    const idx = path.join(toy.cache, 'index', 'default', 'total.json');
    fs.writeFileSync(idx, JSON.stringify({ key: '../../victim2' }));
    const rec3 = recordOf(toy, 'square@i3');
    const body3 = JSON.parse(fs.readFileSync(rec3, 'utf8'));
    body3.inputs['gen@i3'].value = '../../victim';
    fs.writeFileSync(rec3, JSON.stringify(body3));

    const st = toy.cli(['status']);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stderr, /\/outputs\/raw\/hash must match pattern/);
    const r = runOk(toy);
    assert.deepEqual(r.executed, ['square@i2', 'square@i3']);
    const gc = toy.cli(['gc']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(fs.readFileSync(victim2, 'utf8'), '{}\n');
    assert.deepEqual(runOk(toy).executed, []);
  });

  it('status, why and show on a store that does not exist create nothing', () => {
    const fresh = path.join(toy.dir, 'no-store-here');
    for (const args of [['status'], ['why', 'total'], ['run', '--dry-run'], ['gc', '--dry-run']]) {
      const r = toy.cli(args, { WEAKCORR_CACHE: fresh });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(fs.existsSync(fresh), false);
  });
});

describe('store: gc beside running runs', function () {
  this.timeout(180_000);
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3, 4], scale: 2 });
  });
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('gc in a loop beside `run --jobs 2` loses no task; gc --dry-run lists what gc then removes', async () => {
    // Each square task writes its 'raw' blob, then sleeps: the blob is unreferenced until the
    // parent writes the record, which is exactly when an unguarded gc deletes it.
    const run = toy.spawnCli(['run', '--jobs', '2', '--json'], { TOY_SLOW_ITEM: 'all', TOY_SLEEP_MS: '1500' });
    let out = '';
    run.stdout!.on('data', (d) => (out += d));
    let done = false;
    const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => ((done = true), resolve(code))));
    let gcs = 0;
    let blocked = 0;
    while (!done) {
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const c = toy.spawnCli(['gc', '--json']);
        let so = '';
        let se = '';
        c.stdout!.on('data', (d) => (so += d));
        c.stderr!.on('data', (d) => (se += d));
        c.on('exit', (code) => resolve({ code, stdout: so, stderr: se }));
      });
      assert.equal(r.code, 0, r.stderr);
      gcs++;
      if (JSON.parse(r.stdout).blockedBy?.length) blocked++;
    }
    assert.equal(await exited, 0);
    assert.equal(JSON.parse(out).executed, 9);
    // Every record's blobs exist, and nothing needs recomputing.
    for (const name of fs.readdirSync(path.join(toy.cache, 'tasks'))) {
      const rec = JSON.parse(fs.readFileSync(path.join(toy.cache, 'tasks', name), 'utf8'));
      for (const o of Object.values(rec.outputs) as { hash: string }[]) assert.ok(fs.existsSync(path.join(toy.cache, 'objects', o.hash)), `${rec.id}: blob ${o.hash} lost`);
    }
    assert.deepEqual(runOk(toy).executed, []);
    assert.ok(gcs >= 2 && blocked >= 1, `gc ran ${gcs} times, ${blocked} beside the run`);
    assert.deepEqual(fs.readdirSync(path.join(toy.cache, 'leases')), [], 'the run gave its lease back');

    const orphan = path.join(toy.cache, 'objects', 'e'.repeat(64));
    fs.writeFileSync(orphan, 'orphan');
    const dry = toy.cli(['gc', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would remove ${orphan}`));
    assert.match(dry.stdout, /would remove 1 blob\(s\)/);
    assert.ok(fs.existsSync(orphan), 'dry run removed nothing');
    const real = toy.cli(['gc', '--json']);
    assert.equal(real.json.removedBlobs, 1);
    assert.equal(fs.existsSync(orphan), false);
    assert.deepEqual(runOk(toy).executed, []);
  });

  it('a run killed with SIGKILL does not block gc forever', async () => {
    const child = toy.spawnCli(['run'], { TOY_SLOW_ITEM: '3', TOY_SLEEP_MS: '60000' });
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(toy.mark)) {
      if (Date.now() > deadline) throw new Error('slow task never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(toy.cli(['gc', '--json']).json.blockedBy.length, 1, 'blocked while the run lives');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const r = toy.cli(['gc', '--json']);
    assert.equal(r.json.blockedBy.length, 0);
    assert.ok(r.json.removedBlobs >= 1, 'the killed task\'s unreferenced blob is collected');
  });
});

describe('store: unusable stores are one line and exit 2, up front', function () {
  this.timeout(120_000);
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3], scale: 2 });
  });
  afterEach(() => {
    spawnSync('chmod', ['-R', 'u+w', toy.dir]);
    fs.rmSync(toy.dir, { recursive: true, force: true });
  });

  it('WEAKCORR_CACHE naming a file, or a path below a file', () => {
    const file = path.join(toy.dir, 'a-file');
    fs.writeFileSync(file, 'x');
    for (const [where, what] of [[file, /is not a directory/], [path.join(file, 'store'), /ENOTDIR/]] as const) {
      for (const cmd of ['run', 'status', 'gc']) {
        const r = toy.cli([cmd], { WEAKCORR_CACHE: where });
        assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`WEAKCORR_CACHE=${where.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
        assert.match(r.stderr, what);
      }
    }
    assert.deepEqual(toy.executions(), []);
  });

  it('a read-only store, as an unprivileged user, exits 2 within seconds (no endless lock retry)', function () {
    runOk(toy);
    toy.writeConfig({ items: [1, 2, 3, 4], scale: 2 }); // one new task to compute
    fs.chmodSync(toy.dir, 0o755);
    spawnSync('chmod', ['-R', 'a+rX,a-w', toy.cache]);
    const unwritableParent = path.join(toy.dir, 'locked');
    fs.mkdirSync(unwritableParent, { mode: 0o555 });
    fs.chmodSync(unwritableParent, 0o555);
    // As root, permission bits do not apply: run as `nobody` when it can read this checkout;
    // otherwise (a checkout under /root, say) make the folders read-only mounts in a private
    // namespace. Not root: the bits apply to us already.
    const root = process.getuid?.() === 0;
    const nobodyReads = root && [path.join(REPO, 'bin/weakcorr.js'), path.join(REPO, 'node_modules/tsx/package.json')].every(
      (f) => spawnSync('runuser', ['-u', 'nobody', '--', 'test', '-r', f]).status === 0,
    );
    const roMount = root && !nobodyReads && spawnSync('unshare', ['-rm', 'true']).status === 0;
    if (root && !nobodyReads && !roMount) {
      console.log('    (skipped: neither runuser -u nobody nor unshare -rm can make the store unwritable here)');
      this.skip();
    }
    const env = { ...process.env, WEAKCORR_PROJECT: path.join(toy.dir, 'project.ts'), WEAKCORR_CACHE: toy.cache, CI: '1', NODE: process.execPath, CLI: path.join(REPO, 'bin/weakcorr.js'), RO1: toy.cache, RO2: unwritableParent };
    const mounts = 'for d in "$RO1" "$RO2"; do mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" || exit 99; done; exec "$NODE" "$CLI" "$@"';
    const cli = (args: string[], extra: Record<string, string> = {}): { code: number | null; stderr: string; ms: number } => {
      const t0 = Date.now();
      const argv = nobodyReads
        ? ['runuser', '-u', 'nobody', '--', process.execPath, env.CLI, ...args]
        : roMount
          ? ['unshare', '-rm', 'sh', '-c', mounts, 'sh', ...args]
          : [process.execPath, env.CLI, ...args];
      const r = spawnSync(argv[0]!, argv.slice(1), { env: { ...env, ...extra }, cwd: '/', encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, stderr: r.stderr, ms: Date.now() - t0 };
    };
    const r = cli(['run']);
    assert.equal(r.code, 2, `exit ${r.code} after ${r.ms} ms: ${r.stderr}`);
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`WEAKCORR_CACHE=${toy.cache.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*not writable.*(EACCES|EROFS)`));
    const st = cli(['status']);
    assert.equal(st.code, 0, `a read-only store can still be inspected: ${st.stderr}`);
    const parent = cli(['run'], { WEAKCORR_CACHE: path.join(unwritableParent, 'store') });
    assert.equal(parent.code, 2, parent.stderr);
    assert.match(parent.stderr, /WEAKCORR_CACHE=.*locked\/store is missing and cannot be created: (permission denied|read-only file system)/);
  });

  it('a full disk: up front exit 2 naming WEAKCORR_CACHE and gc; mid-run a task fails naming the store and gc, leaving no temp file', function () {
    // A private tmpfs in a user+mount namespace stands in for a full disk.
    const probe = spawnSync('unshare', ['-rm', 'true']);
    if (probe.status !== 0) {
      console.log('    (skipped: unshare -rm is not permitted here)');
      this.skip();
    }
    fs.mkdirSync(toy.cache);
    const env = { ...process.env, WEAKCORR_PROJECT: path.join(toy.dir, 'project.ts'), WEAKCORR_CACHE: toy.cache, CI: '1', TOY_LOG: toy.log, STORE: toy.cache, NODE: process.execPath, CLI: path.join(REPO, 'bin/weakcorr.js') };
    const inNs = (script: string): { stdout: string; stderr: string } => {
      const r = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=2m tmpfs "$STORE" || exit 99\n${script}`], { env, cwd: toy.dir, encoding: 'utf8', timeout: 90_000 });
      assert.notEqual(r.status, 99, `mount failed: ${r.stderr}`);
      return { stdout: r.stdout, stderr: r.stderr };
    };
    const full = inNs('dd if=/dev/zero of="$STORE/filler" bs=64k 2>/dev/null; "$NODE" "$CLI" run; echo "rc=$?"');
    assert.match(full.stdout, /rc=2/);
    assert.equal(full.stderr.trim().split('\n').length, 1, full.stderr);
    assert.match(full.stderr, /WEAKCORR_CACHE=.*(full|ENOSPC).*toy gc/);
    assert.deepEqual(toy.executions(), []);

    toy.edit('square', (s) => s.replaceAll('Buffer.alloc(64, value)', 'Buffer.alloc(3_000_000, value)'));
    const mid = inNs('"$NODE" "$CLI" run; echo "rc=$?"; echo "tmp=[$(ls -A "$STORE/tmp")]"');
    assert.match(mid.stdout, /rc=1/);
    assert.match(mid.stdout, /tmp=\[\]/, 'the half-written blob was removed at once');
    assert.match(mid.stderr, new RegExp(`square@i\\d+: no space left for the store ${toy.cache.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} .*run \`toy gc\``));
  });

  it('a lock on a store whose locks folder is unusable fails at once instead of retrying forever', async () => {
    const { Store } = await import('../../pipeline/engine/store.ts');
    const store = new Store(toy.cache);
    await store.init();
    fs.rmSync(path.join(toy.cache, 'locks'), { recursive: true });
    fs.writeFileSync(path.join(toy.cache, 'locks'), 'not a folder');
    const t0 = Date.now();
    await assert.rejects(store.lock('a'.repeat(64)), /ENOTDIR/);
    assert.ok(Date.now() - t0 < 2000);
  });
});

describe('cli: errors that belong up front', function () {
  this.timeout(120_000);
  let toy: Toy;
  before(() => {
    toy = makeToy({ items: [1, 2], scale: 2 });
  });
  after(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('--jobs 0, --jobs abc, an unknown flag or command: one line, exit 2, nothing runs', () => {
    for (const args of [['run', '--jobs', '0'], ['run', '--jobs', 'abc'], ['run', '--bogus'], ['runn'], ['gc', '--keep-going']]) {
      const r = toy.cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /Usage:/);
    }
    assert.deepEqual(toy.executions(), []);
    assert.equal(fs.existsSync(toy.cache), false);
  });

  it('a stage runtime that cannot resolve (a bad backend) stops everything before any task: one line, exit 2', () => {
    toy.edit('square', (s) => s.replace("params: ['offset'],", "params: ['offset'], runtime: () => { if (process.env.TOY_BACKEND === 'bogus') throw new Error(\"unknown backend 'bogus'\"); return {}; },"));
    for (const args of [['run'], ['status'], ['run', '--dry-run'], ['why', 'total']]) {
      const r = toy.cli(args, { TOY_BACKEND: 'bogus' });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), "toy: stage 'square' cannot run here: unknown backend 'bogus'");
    }
    assert.deepEqual(toy.executions(), [], 'not even the upstream stage ran');
    const gen = toy.cli(['run', 'gen'], { TOY_BACKEND: 'bogus' });
    assert.equal(gen.code, 0, 'a selection that does not need the stage runs');
  });
});
