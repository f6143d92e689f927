// The fault campaign (issue 25), replayed: what happens when clocks, hosts and signals misbehave,
// inputs are hostile and the disk fills. Real CLI processes over the toy project, except where a
// fault is injected in this process. `make faults` runs this file with store-safety.test.ts (the
// earlier scenarios: hostile records, gc beside runs, SIGKILL, unusable and full stores).
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadExperiment } from '../../pipeline/engine/config.ts';
import type { Executor, ExecJob, ExecResult } from '../../pipeline/engine/executor.ts';
import { buildGraph } from '../../pipeline/engine/graph.ts';
import { Planner } from '../../pipeline/engine/planner.ts';
import { ReadyQueue } from '../../pipeline/engine/ready-queue.ts';
import type { Reporter } from '../../pipeline/engine/reporter.ts';
import { runTasks } from '../../pipeline/engine/scheduler.ts';
import { Store } from '../../pipeline/engine/store.ts';
import type { Project } from '../../pipeline/engine/types.ts';
import { variantOf } from '../../pipeline/engine/variant.ts';
import { makeToy, REPO, type Toy } from './toy.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Every record in the store whose output blob is missing: `id: hash`. */
function danglingRecords(toy: Toy): string[] {
  const out: string[] = [];
  const dir = path.join(toy.cache, 'tasks');
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!name.endsWith('.json')) continue;
    const rec = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { id: string; outputs: Record<string, { hash: string }> };
    for (const o of Object.values(rec.outputs)) if (!fs.existsSync(path.join(toy.cache, 'objects', o.hash))) out.push(`${rec.id}: ${o.hash}`);
  }
  return out;
}

function collect(child: ChildProcess): { out: () => string; err: () => string; exited: Promise<{ code: number | null; signal: string | null; at: number }> } {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  return { out: () => out, err: () => err, exited };
}

describe('faults: a stopped holder on another host with a lagging clock loses no work to gc', function () {
  this.timeout(180_000);
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3, 4], scale: 2 });
  });
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('gc on node-a never judges node-b\'s lease by its clock; after a SIGSTOP past the stale limit the run re-takes its lease and recomputes what gc swept', async () => {
    // Test hooks of gc-lease.ts: two host names, node-b's clock an hour behind, short intervals.
    const staleMs = 2000;
    const common = { ENGINE_TEST_LEASE_STALE_MS: String(staleMs), ENGINE_TEST_LEASE_HEARTBEAT_MS: '300' };
    const holder = toy.spawnCli(['run', '--jobs', '2', '--json'], {
      ...common, ENGINE_TEST_HOST: 'node-b', ENGINE_TEST_CLOCK_SKEW_MS: String(-3_600_000), TOY_SLOW_ITEM: 'all', TOY_SLEEP_MS: '2500',
    });
    const run = collect(holder);
    let done = false;
    void run.exited.then(() => (done = true));
    const gc = async (): Promise<any> => {
      const c = collect(toy.spawnCli(['gc', '--json'], { ...common, ENGINE_TEST_HOST: 'node-a' }));
      const { code } = await c.exited;
      assert.equal(code, 0, c.err());
      return JSON.parse(c.out());
    };
    let blockedWhileRunning = 0;
    let gcs = 0;
    let stopped = false;
    while (!done) {
      const r = await gc();
      gcs++;
      if (r.blockedBy.length && !stopped) blockedWhileRunning++;
      // Once a slow task has written its first blob and gc saw the lease live twice, stop the
      // holder (not its workers) for three stale limits, with gc going on beside it.
      if (!stopped && blockedWhileRunning >= 2 && fs.existsSync(toy.mark)) {
        stopped = true;
        holder.kill('SIGSTOP');
        const until = Date.now() + 3 * staleMs + 1000;
        let removedLease = false;
        while (Date.now() < until || !removedLease) {
          const s = await gc();
          gcs++;
          if (s.blockedBy.length === 0) removedLease = true;
          if (Date.now() > until + 20_000) break;
        }
        assert.ok(removedLease, 'gc judged the stopped holder stale (its heartbeat stood still)');
        holder.kill('SIGCONT');
      }
    }
    const { code } = await run.exited;
    assert.equal(code, 0, run.err());
    assert.ok(blockedWhileRunning >= 2, `gc on node-a saw node-b's lease (clock 1 h behind) as live ${blockedWhileRunning} time(s)`);
    assert.ok(stopped, 'the holder was stopped');
    if (process.env.FAULTS_VERBOSE) console.log(run.err());
    assert.deepEqual(danglingRecords(toy), [], 'no record points at a blob gc removed');
    const summary = JSON.parse(run.out());
    assert.equal(summary.executed, 9, run.err());
    // Nothing of the run was lost: a second run computes nothing, and gc has nothing of it to take.
    toy.resetLog();
    const again = toy.cli(['run', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.executed, 0, again.stderr);
    assert.deepEqual(toy.executions(), []);
    assert.deepEqual(fs.readdirSync(path.join(toy.cache, 'leases')), [], `${gcs} gc calls; the run gave its lease back`);
  });
});

describe('faults: hostile config input', function () {
  this.timeout(60_000);
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2], scale: 2 });
  });
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('--set cannot reach a prototype, and a non-finite number is a config error naming the key: one line, exit 2', () => {
    for (const [set, what] of [
      ['__proto__.polluted=1', /key '__proto__' is not allowed/],
      ['constructor.prototype.polluted=1', /key 'constructor' is not allowed/],
      ['scale.__proto__=1', /key '__proto__' is not allowed/],
      ['scale=1e400', /'scale' is Infinity, not a finite number/],
      ['fail=[1,-1e999]', /'fail\.1' is -Infinity/],
    ] as const) {
      const r = toy.cli(['status', '--set', set]);
      assert.equal(r.code, 2, `${set}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${set}: ${r.stderr}`);
      assert.match(r.stderr, what, set);
      assert.doesNotMatch(r.stderr, /internal error|at .*\.ts:\d+/, set);
    }
    fs.writeFileSync(path.join(toy.dir, 'experiments/inf.json'), '{"items": [1], "scale": 1e400}\n');
    fs.writeFileSync(path.join(toy.dir, 'experiments/proto.json'), '{"items": [1], "scale": 2, "__proto__": {"polluted": 1}}\n');
    for (const [exp, what] of [['inf', /inf\.json: 'scale' is Infinity/], ['proto', /proto\.json: key '__proto__' is not allowed/]] as const) {
      const r = toy.cli(['run', '--experiment', exp]);
      assert.equal(r.code, 2, `${exp}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, what);
    }
    assert.deepEqual(toy.executions(), []);
  });
});

describe('faults: a 100,000-task grid is interruptible in every phase', function () {
  this.timeout(180_000);
  let toy: Toy;
  before(() => {
    toy = makeToy({ items: Array.from({ length: 50_000 }, (_, i) => i + 1), scale: 2 }); // 100,001 tasks
  });
  after(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  // "Within a second" on an idle machine; the limit leaves room for a loaded CI runner.
  const LIMIT_MS = 2500;

  it('SIGTERM while the graph is built ends the run at once (nothing ran)', async () => {
    toy.resetLog();
    const child = toy.spawnCli(['run', '--jobs', '2']);
    const c = collect(child);
    // The CLI's modules load first (a fixed cost); then the graph of 100,001 tasks is built.
    await sleep(2500);
    const sent = Date.now();
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const { code, signal, at } = await c.exited;
    clearTimeout(killer);
    assert.ok(at - sent < LIMIT_MS, `exited ${at - sent} ms after SIGTERM: ${c.err().slice(-500)}`);
    assert.ok(code === 130 || signal === 'SIGTERM', `exit ${code} ${signal}: ${c.err().slice(-500)}`);
  });

  it('tasks start within seconds, in topological order, and SIGINT, then SIGTERM, stop the run within the limit (exit 130)', async () => {
    let firstTwo: string[] = [];
    // From an empty store: the test before may have let tasks finish (the compiled CLI can build
    // the graph within its 2.5 s), and cached tasks would move which ones start first.
    fs.rmSync(toy.cache, { recursive: true, force: true });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      toy.resetLog();
      const t0 = Date.now();
      const child = toy.spawnCli(['run', '--jobs', '2']);
      const c = collect(child);
      while (toy.executions().length < 3) {
        if (Date.now() - t0 > 60_000) {
          child.kill('SIGKILL');
          throw new Error(`no task started within 60 s: ${c.err().slice(-500)}`);
        }
        await sleep(100);
      }
      if (!firstTwo.length) firstTwo = toy.executions().slice(0, 2).sort();
      const sent = Date.now();
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const { code, at } = await c.exited;
      clearTimeout(killer);
      assert.ok(at - sent < LIMIT_MS, `${signal}: exited ${at - sent} ms after it`);
      assert.equal(code, 130, `${signal}: ${c.err().slice(-500)}`);
      assert.match(c.err(), /interrupted/);
    }
    // The ready queue starts the earliest ready tasks of the topological order first. Which of them
    // logs first is a race between the two workers (gen@i1 may finish and gen@i3 start before gen@i2
    // logs), so the first two logged must be among the first four of 100,001, not in exact order.
    const earliest = ['gen@i1', 'gen@i2', 'gen@i3', 'gen@i4'];
    assert.ok(firstTwo.length === 2 && firstTwo.every((id) => earliest.includes(id)), `first started: ${firstTwo.join(', ')}`);
  });
});

describe('faults: the ready queue keeps the topological order', function () {
  it('shifts items by rank, whatever the push order (as the sorted list did)', () => {
    const q = new ReadyQueue<number>();
    const ranks = Array.from({ length: 5000 }, (_, i) => i);
    for (let i = ranks.length - 1; i > 0; i--) {
      const j = (i * 7919 + 13) % (i + 1);
      [ranks[i], ranks[j]] = [ranks[j]!, ranks[i]!];
    }
    const out: number[] = [];
    for (const [i, r] of ranks.entries()) {
      q.push(r, r);
      if (i % 3 === 0) out.push(q.shift()!);
    }
    while (q.length) out.push(q.shift()!);
    // Interleaved: each shift takes the least rank present, as a sorted list's shift() did.
    const reference: number[] = [];
    const sorted: number[] = [];
    for (const [i, r] of ranks.entries()) {
      const at = sorted.findIndex((x) => x > r);
      sorted.splice(at < 0 ? sorted.length : at, 0, r);
      if (i % 3 === 0) reference.push(sorted.shift()!);
    }
    reference.push(...sorted);
    assert.deepEqual(out, reference);
    assert.equal(q.shift(), undefined);
  });
});

describe('faults: a disk that fills mid-run', function () {
  this.timeout(120_000);
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: Array.from({ length: 12 }, (_, i) => i + 1), scale: 2 });
  });
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('ENOSPC stops new tasks at once, lets the running ones finish, and says so once with the store and gc', function () {
    // A private 2 MB tmpfs in a user+mount namespace is the store; each square task writes 3 MB.
    if (spawnSync('unshare', ['-rm', 'true']).status !== 0) {
      console.log('    (skipped: unshare -rm is not permitted here)');
      this.skip();
    }
    fs.mkdirSync(toy.cache);
    toy.edit('square', (s) => s.replaceAll('Buffer.alloc(64, value)', 'Buffer.alloc(3_000_000, value)'));
    const env = { ...process.env, WEAKCORR_PROJECT: path.join(toy.dir, 'project.ts'), WEAKCORR_CACHE: toy.cache, CI: '1', TOY_LOG: toy.log, STORE: toy.cache, NODE: process.execPath, CLI: path.join(REPO, 'bin/weakcorr.js') };
    const r = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=2m tmpfs "$STORE" || exit 99\n"$NODE" "$CLI" run --jobs 2; echo "rc=$?"; echo "tmp=[$(ls -A "$STORE/tmp")]"'], { env, cwd: toy.dir, encoding: 'utf8', timeout: 90_000 });
    assert.notEqual(r.status, 99, `mount failed: ${r.stderr}`);
    assert.match(r.stdout, /rc=1/, r.stderr);
    assert.match(r.stdout, /tmp=\[\]/);
    const squares = toy.executions().filter((id) => id.startsWith('square@'));
    assert.ok(squares.length >= 1 && squares.length <= 2, `square tasks started: ${squares.join(', ')} (at most the 2 running when the disk filled)\n${r.stderr}`);
    // The task whose write found the disk full: a square, or a gen task still running beside one.
    const named = new Set([...r.stderr.matchAll(/((?:square|gen)@i\d+): no space left for the store/g)].map((m) => m[1]));
    assert.equal(named.size, 1, `the full store is told for one task only:\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`no space left for the store ${escape(toy.cache)} .*run \`toy gc\``));
    assert.match(r.stderr, /stopped early: the store is full .*task\(s\) were not started/);
  });
});

describe('faults: a mixed run counts only what it computed', function () {
  this.timeout(60_000);
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3], scale: 2 });
  });
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('a job that found the record another run wrote ("nothing to do") is cached, not executed', async () => {
    const first = toy.cli(['run', '--json']);
    assert.equal(first.code, 0, first.stderr);
    // Set the records aside: to this run every task is stale. Its executor (a cluster's, which
    // writes records itself) finds each one written by another run meanwhile and does nothing.
    const tasks = path.join(toy.cache, 'tasks');
    const aside = path.join(toy.dir, 'records-aside');
    fs.renameSync(tasks, aside);
    fs.mkdirSync(tasks);
    const project = ((await import(pathToFileURL(path.join(toy.dir, 'project.ts')).href)) as { project: Project }).project;
    const store = new Store(toy.cache, { command: 'toy' });
    const exp = loadExperiment('default', project.experimentsDir, project.experimentSchema);
    const graph = buildGraph(project.stages, exp.config);
    const planner = new Planner(project, store, variantOf('default', [], undefined, ['default']), 'local');
    const executor: Executor = {
      writesRecords: true,
      async run(job: ExecJob): Promise<ExecResult> {
        const file = `${job.task.key}.json`;
        fs.renameSync(path.join(aside, file), path.join(tasks, file));
        return { kind: 'record', record: (await store.records.read(job.task.key))!, reused: true };
      },
      async kill() {},
      close() {},
    };
    const quiet: Reporter = { start() {}, taskStarted() {}, taskProgress() {}, taskLog() {}, taskEnded() {}, warn() {}, interrupted() {}, stop() {} };
    const summary = await runTasks(planner, graph.tasks, { jobs: 2, force: new Set(), reporter: quiet, executor });
    assert.deepEqual({ executed: summary.executed, cached: summary.cached, failed: summary.failed }, { executed: 0, cached: 7, failed: 0 });
  });
});

describe('faults: .ci/slurm.sh starts a clean cluster whatever an earlier one left', function () {
  this.timeout(180_000);
  const script = path.join(REPO, '.ci/slurm.sh');
  const sh = (cmd: string): { code: number | null; out: string } => {
    const r = spawnSync('bash', [script, cmd], { encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const oldState = '/var/spool/slurmctld/clustername';
  let saved: string | undefined;
  before(function () {
    // Root, Debian's slurm daemons, and no cluster up now (CI's, which this must not tear down).
    const up = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
    if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v slurmctld && command -v munged']).status !== 0 || (up.status === 0 && up.stdout.trim())) {
      console.log('    (skipped: needs root, slurmctld and munged, and no SLURM cluster up)');
      this.skip();
    }
    saved = fs.existsSync(oldState) ? fs.readFileSync(oldState, 'utf8') : undefined;
  });
  after(() => {
    if (saved === undefined) return;
    fs.writeFileSync(oldState, saved);
  });

  it('another cluster\'s saved state in the usual directories does not stop `up`; `down` leaves nothing behind', () => {
    // An earlier cluster of another name saved its state where Debian's slurmctld keeps it, and
    // one of ours left its state behind (a machine image taken while it was up).
    fs.mkdirSync(path.dirname(oldState), { recursive: true });
    fs.writeFileSync(oldState, 'another-cluster');
    fs.mkdirSync('/var/spool/weakcorr-slurm/ctld', { recursive: true });
    fs.writeFileSync('/var/spool/weakcorr-slurm/ctld/clustername', 'another-cluster');
    const up = sh('up');
    try {
      assert.equal(up.code, 0, up.out);
      const sinfo = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
      assert.match(sinfo.stdout, /idle/);
    } finally {
      const down = sh('down');
      assert.equal(down.code, 0, down.out);
    }
    for (const p of ['/run/weakcorr-slurm', '/var/spool/weakcorr-slurm', '/var/log/weakcorr-slurm']) assert.equal(fs.existsSync(p), false, `${p} left behind`);
    assert.notEqual(spawnSync('sinfo', ['-h']).status, 0, 'no controller answers after down');
  });
});
