// The SLURM executor against a real single-node cluster (.ci/slurm.sh up starts one): real
// sbatch, squeue, scancel. Skipped, saying so, where no cluster answers.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeToy, type Toy } from './toy.ts';

function clusterUp(): boolean {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
  return r.status === 0 && /idle|mix|alloc/.test(r.stdout);
}

// Only this test's jobs (their working directory is its toy's store): the cluster may be shared.
let toy: Toy;
const queueIds = (state?: string): string[] =>
  execFileSync('squeue', ['-h', '-r', '-o', '%i|%Z', ...(state ? ['-t', state] : [])], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split('|'))
    .filter(([id, dir]) => id && dir?.startsWith(toy.dir))
    .map(([id]) => id!);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The queue holds none of this test's jobs. A job that wrote its record can still be listed for a
 * moment (SLURM's COMPLETING state) when the run that waited for the record has already exited, so
 * this waits up to 20 s for the listing to catch up before it names what is left.
 */
async function drained(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (queueIds().length && Date.now() < deadline) await sleep(200);
  assert.deepEqual(queueIds(), [], 'jobs left in the queue');
}

async function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function counts(toy: Toy): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of toy.executions()) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

const exitOf = (child: ReturnType<Toy['spawnCli']>): Promise<number | null> => new Promise((r) => child.once('exit', (code) => r(code)));

describe('engine: the SLURM executor on a real cluster', function () {
  this.timeout(300_000);
  before(function () {
    if (!clusterUp()) {
      console.log('      skipped: no SLURM cluster answers (bash .ci/slurm.sh up starts one)');
      this.skip();
    }
  });
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3], scale: 2 });
  });
  afterEach(() => {
    for (const id of queueIds()) spawnSync('scancel', [id]);
    fs.rmSync(toy.dir, { recursive: true, force: true });
  });

  it('gives the same keys and published bytes as the local executor, writes job ids into records, and a second run submits nothing', async () => {
    const local = makeToy({ items: [1, 2, 3], scale: 2 });
    try {
      assert.equal(local.cli(['run']).code, 0);
      const r = toy.cli(['run', '--executor', 'slurm', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json.executed, 7);
      for (const id of ['gen@i1', 'square@i2', 'total'])
        assert.equal(toy.cli(['why', id, '--json']).json.key, local.cli(['why', id, '--json']).json.key, id);
      assert.deepEqual(fs.readFileSync(path.join(toy.dir, 'out/default/sum.json')), fs.readFileSync(path.join(local.dir, 'out/default/sum.json')));
      const show = toy.cli(['show', 'total']).stdout;
      assert.match(show, /job {6}slurm \d+_0, log .*slurm\/logs\/\d+_0\.log/);
      const logs = fs.readdirSync(path.join(toy.cache, 'slurm/logs')).length;
      const again = toy.cli(['run', '--executor', 'slurm', '--json']);
      assert.equal(again.json.executed, 0);
      assert.equal(fs.readdirSync(path.join(toy.cache, 'slurm/logs')).length, logs, 'nothing submitted');
      await drained();
    } finally {
      fs.rmSync(local.dir, { recursive: true, force: true });
    }
  });

  it('a failing task: its job ends FAILED, the error names the job and its log, dependents never run, exit 1, nothing stays queued', async () => {
    toy.writeConfig({ items: [1, 2, 3], scale: 2, fail: [2] });
    const r = toy.cli(['run', '--executor', 'slurm', '--json']);
    assert.equal(r.code, 1);
    const failed = r.json.tasks.find((t: { id: string }) => t.id === 'gen@i2');
    assert.equal(failed.state, 'failed');
    assert.match(failed.error, /SLURM job \d+_\d+ FAILED \(exit 1:0[^)]*\); log .*slurm\/logs\/\d+_\d+\.log:[\s\S]*toy failure for item 2/);
    assert.equal(r.json.tasks.find((t: { id: string }) => t.id === 'square@i2').state, 'skipped');
    assert.equal(r.json.tasks.find((t: { id: string }) => t.id === 'total').state, 'skipped');
    assert.ok(!toy.executions().includes('square@i2'));
    await drained();
  });

  it('SIGKILL of the submitting process, then a rerun: a queued job is adopted, running ones are waited for, no task computed twice', async () => {
    // The square jobs hold until the gate opens, so the rerun finds them queued or running however
    // slowly it starts; it opens once the rerun has said it adopted one. The kill comes once every
    // gen and square task has been submitted (6 manifests): two squares run (two CPUs) and hold
    // their keys' locks, so the rerun waits on those; the queued third is the one it adopts.
    const gate = path.join(toy.dir, 'gate');
    const env = { TOY_SLOW_ITEM: 'all', TOY_SLEEP_MS: '1000', TOY_GATE: gate };
    const child = toy.spawnCli(['run', '--executor', 'slurm'], env);
    const manifests = path.join(toy.cache, 'slurm/tasks');
    const submitted = () => (fs.existsSync(manifests) ? fs.readdirSync(manifests).filter((f) => f.endsWith('.json')).length : 0);
    await waitFor('every gen and square task submitted, a square running', () => submitted() >= 6 && fs.existsSync(toy.mark));
    child.kill('SIGKILL');
    await exitOf(child);
    assert.ok(queueIds().length > 0, 'jobs outlive their submitter');
    const rerun = toy.spawnCli(['run', '--executor', 'slurm', '--json'], env);
    let stdout = '';
    let stderr = '';
    rerun.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    rerun.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = exitOf(rerun);
    try {
      await waitFor('the rerun to adopt a job', () => /adopted SLURM job/.test(stderr), 60_000);
    } catch (e) {
      throw new Error(`${String(e)}; the rerun printed:\n${stderr}\nqueue: ${queueIds().join(' ')}`);
    } finally {
      fs.writeFileSync(gate, '');
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(JSON.parse(stdout).failed, 0);
    const c = counts(toy);
    assert.equal(c.size, 7);
    for (const [id, n] of c) assert.equal(n, 1, `${id} computed ${n} times`);
    await drained();
  });

  it('scancel of one running job (preemption): the run reports it, and a rerun recomputes only that task', async () => {
    const child = toy.spawnCli(['run', '--executor', 'slurm', '--json'], { TOY_SLOW_ITEM: '2', TOY_SLEEP_MS: '60000' });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor('square@i2 to start', () => fs.existsSync(toy.mark));
    // Jobs run side by side: the fast squares end within seconds, the slow one is left.
    await waitFor('square@i2 alone in the queue', () => queueIds().length === 1);
    const running = queueIds('RUNNING');
    assert.equal(running.length, 1);
    execFileSync('scancel', [running[0]!]);
    assert.equal(await exitOf(child), 1);
    const s = JSON.parse(out);
    assert.match(s.tasks.find((t: { id: string }) => t.id === 'square@i2').error, /SLURM job \d+_\d+ CANCELLED/);
    toy.resetLog();
    const r = toy.cli(['run', '--executor', 'slurm', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...toy.executions()].sort(), ['square@i2', 'total']);
  });

  it('Ctrl-C cancels the run\'s jobs, exits 130, keeps finished records, and leaves the queue empty', async () => {
    const child = toy.spawnCli(['run', '--executor', 'slurm', '--json'], { TOY_SLOW_ITEM: '3', TOY_SLEEP_MS: '60000' });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor('square@i3 to start', () => fs.existsSync(toy.mark));
    child.kill('SIGINT');
    assert.equal(await exitOf(child), 130);
    await drained();
    const first = JSON.parse(out) as { tasks: { id: string; state: string }[] };
    const finished = first.tasks.filter((t) => t.state === 'executed').map((t) => t.id);
    assert.ok(finished.includes('gen@i3') && !finished.includes('square@i3'), finished.join(' '));
    toy.resetLog();
    const r = toy.cli(['run', '--json']);
    assert.equal(r.code, 0);
    const all = ['gen@i1', 'gen@i2', 'gen@i3', 'square@i1', 'square@i2', 'square@i3', 'total'];
    assert.deepEqual([...toy.executions()].sort(), all.filter((id) => !finished.includes(id)), 'exactly the tasks the interrupted run had not finished');
  });

  it('a local run and a SLURM run on one store at once compute every task exactly once', async () => {
    const env = { TOY_SLOW_ITEM: 'all', TOY_SLEEP_MS: '1500' };
    const a = toy.spawnCli(['run', '--executor', 'slurm', '--json'], env);
    const b = toy.spawnCli(['run', '--jobs', '2', '--json'], env);
    const [ca, cb] = await Promise.all([exitOf(a), exitOf(b)]);
    assert.equal(ca, 0);
    assert.equal(cb, 0);
    const c = counts(toy);
    assert.equal(c.size, 7);
    for (const [id, n] of c) assert.equal(n, 1, `${id} computed ${n} times`);
    await drained();
  });

  it('a stage edited after planning, before its job starts: the job computes nothing and says to rerun; the rerun computes it', async () => {
    const child = toy.spawnCli(['run', 'gen', '--executor', 'slurm', '--json', '--sbatch=--hold']);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor('the gen jobs to be queued (held)', () => queueIds().length === 3);
    toy.edit('gen', (src) => src.replace('note(ctx.id);', 'note(ctx.id); const edited = 1; void edited;'));
    for (const array of new Set(queueIds().map((id) => id.split('_')[0]!))) execFileSync('scontrol', ['release', array]);
    assert.equal(await exitOf(child), 1);
    const s = JSON.parse(out) as { tasks: { id: string; state: string; error?: string }[] };
    for (const t of s.tasks) {
      assert.equal(t.state, 'failed', t.id);
      assert.match(t.error!, /SLURM job \d+_\d+ FAILED[^;]*; log \S+: stage 'gen': its code changed in \S+ since this run was planned, .*nothing was computed\. Rerun the toy command/);
    }
    assert.deepEqual(toy.executions(), []);
    assert.deepEqual(fs.readdirSync(path.join(toy.cache, 'tasks')).filter((f) => f.endsWith('.json')), [], 'no record under the old keys');
    const r = toy.cli(['run', 'gen', '--executor', 'slurm', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.executed, 3);
  });

  it("a node that lacks the runtime the key was planned for: the job fails naming requested and actual runtime and the node", () => {
    // The submit host asks for 'gpu' ('remote' planning); the node's own probe ('local') answers TOY_NODE.
    toy.edit('gen', (src) => src.replace("name: 'gen', module: import.meta.url,", "name: 'gen', module: import.meta.url, runtime: (where) => ({ backend: (where === 'remote' ? process.env.TOY_REQUESTED : process.env.TOY_NODE) ?? 'cpu' }),"));
    const bad = toy.cli(['run', 'gen', '--executor', 'slurm', '--json'], { TOY_REQUESTED: 'gpu', TOY_NODE: 'cpu' });
    assert.equal(bad.code, 1, bad.stderr);
    const node = execFileSync('hostname', { encoding: 'utf8' }).trim();
    for (const t of bad.json.tasks as { error: string }[])
      assert.ok(t.error.includes(`stage 'gen': node ${node} does not provide the runtime the task's key was computed for (backend: requested "gpu", actual "cpu"); nothing was computed`), t.error);
    assert.deepEqual(toy.executions(), []);
    const good = toy.cli(['run', 'gen', '--executor', 'slurm', '--json'], { TOY_REQUESTED: 'gpu', TOY_NODE: 'gpu' });
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.json.executed, 3);
    // The key holds the requested runtime; a local run (which probes this host) keys it differently.
    assert.equal(toy.cli(['why', 'gen@i1', '--json'], { TOY_REQUESTED: 'gpu', TOY_EXECUTOR: 'slurm' }).json.runtime.backend, 'gpu');
    assert.equal(toy.cli(['why', 'gen@i1', '--executor', 'local', '--json'], { TOY_NODE: 'cpu' }).json.runtime.backend, 'cpu');
    // Read commands key as the experiment's last run did (slurm here), with no flag or variable.
    const status = toy.cli(['status', 'gen', '--json'], { TOY_REQUESTED: 'gpu', TOY_NODE: 'cpu' });
    assert.deepEqual(status.json.counts, { cached: 3, stale: 0, missing: 0 }, status.stderr);
    assert.equal(toy.cli(['why', 'gen@i1', '--json'], { TOY_REQUESTED: 'gpu', TOY_NODE: 'cpu' }).json.runtime.backend, 'gpu');
    assert.equal(toy.cli(['status', 'gen', '--executor', 'local', '--json'], { TOY_REQUESTED: 'gpu', TOY_NODE: 'cpu' }).json.counts.cached, 0);
  });

  it('transient squeue and sbatch failures (a lost sbatch reply included) are retried: the run succeeds and submits nothing twice', async () => {
    const shim = path.join(toy.dir, 'shim');
    fs.mkdirSync(shim);
    const real = (cmd: string): string => execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
    // Each fails its first call with a controller timeout; sbatch's first call does submit (its reply is what is lost).
    const script = (cmd: string, first: string): string => `#!/bin/sh
n=$(cat "${shim}/${cmd}.calls" 2>/dev/null || echo 0); echo $((n + 1)) > "${shim}/${cmd}.calls"
for a in "$@"; do case "$a" in --comment=*) echo "$a" >> "${shim}/${cmd}.comments";; esac; done
if [ "$n" = 0 ]; then ${first}; fi
exec ${real(cmd)} "$@"
`;
    fs.writeFileSync(path.join(shim, 'squeue'), script('squeue', `echo 'slurm_load_jobs error: Socket timed out on send/recv operation' >&2; exit 1`), { mode: 0o755 });
    fs.writeFileSync(path.join(shim, 'sbatch'), script('sbatch', `${real('sbatch')} "$@" >/dev/null; echo 'sbatch: error: Batch job submission failed: Socket timed out on send/recv operation' >&2; exit 1`), { mode: 0o755 });
    const r = toy.cli(['run', '--executor', 'slurm', '--json'], { PATH: `${shim}:${process.env.PATH}` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.executed, 7);
    for (const [id, n] of counts(toy)) assert.equal(n, 1, `${id} computed ${n} times`);
    const calls = (cmd: string): number => Number(fs.readFileSync(path.join(shim, `${cmd}.calls`), 'utf8'));
    assert.ok(calls('squeue') > 1);
    const arrays = new Set(fs.readdirSync(path.join(toy.cache, 'slurm/logs')).map((f) => f.split('_')[0]));
    assert.equal(arrays.size, calls('sbatch'), 'the array whose reply was lost was found again, not submitted a second time');
    const tags = fs.readFileSync(path.join(shim, 'sbatch.comments'), 'utf8').trim().split('\n');
    assert.equal(new Set(tags).size, tags.length, `an array was submitted twice: ${tags.join(', ')}`);
    await drained();
  });

  it('gc removes what slurm/ keeps for jobs that are over (logs: of records it removes), keeps what a queued job needs, and --dry-run removes nothing', async () => {
    const slurmDir = path.join(toy.cache, 'slurm');
    const files = (): string[] => ['tasks', 'logs', 'batches', 'progress'].flatMap((d) => fs.readdirSync(path.join(slurmDir, d)).map((f) => `${d}/${f}`)).sort();
    assert.equal(toy.cli(['run', '--executor', 'slurm']).code, 0);
    assert.equal(toy.cli(['run', '--executor', 'slurm', '--set', 'offset=1']).code, 0); // a variant: square x3 and total
    const variantLogs = files().filter((f) => f.startsWith('logs/')).length - 7;
    assert.equal(variantLogs, 4);
    // A queued job whose submitter died: what it needs must survive gc.
    const child = toy.spawnCli(['run', '--executor', 'slurm', '--force', 'total', '--sbatch=--hold']);
    const manifestOf = (jobId: string): string | undefined =>
      fs.readdirSync(path.join(slurmDir, 'tasks')).find((f) => JSON.parse(fs.readFileSync(path.join(slurmDir, 'tasks', f), 'utf8')).jobId === jobId);
    await waitFor('the held total job and its manifest', () => queueIds().length === 1 && manifestOf(queueIds()[0]!) !== undefined);
    child.kill('SIGKILL');
    await exitOf(child);
    const held = queueIds()[0]!;
    const heldKey = manifestOf(held);
    const before = files();
    const dry = toy.cli(['gc', '--keep', 'default', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(files(), before, '--dry-run removes nothing');
    const r = toy.cli(['gc', '--keep', 'default', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.removedSlurm, dry.json.removedSlurm);
    const after = files();
    assert.deepEqual(after.filter((f) => f.startsWith('tasks/')), [`tasks/${heldKey}`], 'only the queued job\'s manifest is left');
    assert.deepEqual(after.filter((f) => f.startsWith('batches/')).length, 1, 'only the queued job\'s batch folder is left');
    assert.equal(after.filter((f) => f.startsWith('logs/')).length, 7, 'logs of the default experiment\'s jobs stay (younger than --log-days); the removed variant records\' logs go');
    assert.equal(r.json.removedSlurm, before.length - after.length);
    // The queued job still runs from its kept batch folder and writes its record.
    execFileSync('scontrol', ['release', held.split('_')[0]!]);
    await waitFor('the released job to end', () => queueIds().length === 0);
    assert.match(toy.cli(['show', 'total']).stdout, new RegExp(`job {6}slurm ${held}, log `));
  });

  it('a store path and an sbatch argument with spaces, quotes and $ reach sbatch and the job as written', async () => {
    // sbatch runs through zx's shell quoting: a word split or a `$HOME` expanded on the way would
    // put the logs, the working directory or the records elsewhere, or fail the jobs.
    const store = path.join(toy.dir, `it's a "store" $HOME \`x\``);
    const name = `toy job's "name" $USER`;
    const r = toy.cli(['run', '--executor', 'slurm', '--json', `--sbatch=--job-name=${name}`], { WEAKCORR_CACHE: store });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.executed, 7);
    assert.ok(!fs.existsSync(toy.cache), 'nothing under the default store');
    const manifests = fs.readdirSync(path.join(store, 'slurm/tasks')).filter((f) => f.endsWith('.json'));
    assert.equal(manifests.length, 7);
    for (const f of manifests) {
      const m = JSON.parse(fs.readFileSync(path.join(store, 'slurm/tasks', f), 'utf8')) as { jobId: string; log: string };
      assert.ok(m.log.startsWith(path.join(store, 'slurm/logs/')) && fs.existsSync(m.log), `log of ${m.jobId} at ${m.log}`);
      assert.ok(fs.existsSync(path.join(store, 'tasks', f)), `record ${f} written by job ${m.jobId}`);
      // The controller keeps an ended job for MinJobAge: its name and working directory as sbatch got them.
      const job = execFileSync('scontrol', ['show', 'job', '-o', m.jobId], { encoding: 'utf8' });
      assert.ok(job.includes(`JobName=${name} `), job);
      assert.ok(job.includes(`WorkDir=${store} `), job);
    }
    await drained();
  });

  it('sbatch rejecting a request (no such partition): each task fails with "sbatch failed:" and sbatch\'s own words', () => {
    const r = toy.cli(['run', 'gen', '--executor', 'slurm', '--json', '--partition', 'no-such-partition']);
    assert.equal(r.code, 1, r.stderr);
    for (const t of r.json.tasks as { state: string; error: string }[]) {
      assert.equal(t.state, 'failed');
      assert.match(t.error, /^sbatch failed: sbatch: error: .*invalid partition/i);
    }
    assert.deepEqual(queueIds(), []);
  });

  it('--dry-run prints the arrays it would submit per stage, with their sbatch resources', () => {
    const r = toy.cli(['run', '--executor', 'slurm', '--dry-run', '--partition', 'debug', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.slurm.map((j: { stage: string; jobs: number }) => [j.stage, j.jobs]), [['gen', 3], ['square', 3], ['total', 1]]);
    assert.ok(r.json.slurm[0].sbatch.includes('--partition=debug'));
    assert.deepEqual(queueIds(), [], 'a dry run submits nothing');
  });
});

describe('engine: the SLURM executor without a cluster', function () {
  this.timeout(60_000);
  it('stops before any task with one line and exit 2 when no controller answers', () => {
    const toy = makeToy({ items: [1, 2], scale: 2 });
    try {
      const r = toy.cli(['run', '--executor', 'slurm'], { PATH: path.join(toy.dir, 'no-bin') });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim(), 'toy: --executor slurm: no SLURM controller answers (squeue is not installed here); run on a submit host of the cluster, or use --executor local');
      assert.deepEqual(toy.executions(), []);
    } finally {
      fs.rmSync(toy.dir, { recursive: true, force: true });
    }
  });
  it('a bad poll interval in the environment is one line naming the variable, exit 2', () => {
    const toy = makeToy({ items: [1], scale: 2 });
    try {
      const r = toy.cli(['run', '--executor', 'slurm'], { TOY_SLURM_POLL_MS: '0.5s' });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim(), 'toy: $TOY_SLURM_POLL_MS=0.5s: expected a positive integer (milliseconds)');
    } finally {
      fs.rmSync(toy.dir, { recursive: true, force: true });
    }
  });
});
