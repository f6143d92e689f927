// End-to-end engine behaviour through the real CLI, on a toy project in a temp dir.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeToy, type Toy } from './toy.ts';

const sorted = (xs: string[]): string[] => [...xs].sort();
const records = (toy: Toy): string[] => (fs.existsSync(path.join(toy.cache, 'tasks')) ? fs.readdirSync(path.join(toy.cache, 'tasks')) : []);

function runOk(toy: Toy, args: string[] = [], env?: Record<string, string>): { executed: string[]; json: any; stderr: string } {
  toy.resetLog();
  const r = toy.cli(['run', '--json', ...args], env);
  assert.equal(r.code, 0, `run failed: ${r.stderr}`);
  return { executed: sorted(toy.executions()), json: r.json, stderr: r.stderr };
}

describe('engine: caching and invalidation', function () {
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3], scale: 2 });
    runOk(toy);
  });
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('a second run in a new process executes nothing, and keys are identical across processes', () => {
    const second = runOk(toy);
    assert.deepEqual(second.executed, []);
    assert.equal(second.json.cached, 7);
    assert.equal(second.json.executed, 0);
    const k1 = toy.cli(['why', 'total', '--json']).json.key;
    const k2 = toy.cli(['why', 'total', '--json']).json.key;
    assert.match(k1, /^[0-9a-f]{64}$/);
    assert.equal(k1, k2);
    const state = second.json.tasks.map((t: { id: string; state: string }) => `${t.id}:${t.state}`);
    assert.ok(state.every((s: string) => s.endsWith(':cached')), state.join(' '));
  });

  it("changing a param re-runs only that stage's tasks and what their new outputs feed", () => {
    toy.writeConfig({ items: [1, 2, 3], scale: 2, offset: 5 });
    const st = toy.cli(['status', '--json']).json;
    const sq = st.tasks.find((t: { id: string }) => t.id === 'square@i1');
    assert.equal(sq.state, 'stale');
    assert.deepEqual(sq.reasons, ['param offset 0 -> 5']);
    assert.equal(st.tasks.find((t: { id: string }) => t.id === 'gen@i1').state, 'cached');
    const r = runOk(toy);
    assert.deepEqual(r.executed, ['square@i1', 'square@i2', 'square@i3', 'total']);
  });

  it('adding one matrix value runs only the new tasks and their dependents', () => {
    toy.writeConfig({ items: [1, 2, 3, 4], scale: 2 });
    assert.deepEqual(runOk(toy).executed, ['gen@i4', 'square@i4', 'total']);
  });

  it('a code edit re-runs the stage; identical output bytes cut off downstream', () => {
    toy.edit('gen', (s) => s.replace("const item = ctx.axes.item as number;", "const item = (ctx.axes.item as number) + 0;"));
    const st = toy.cli(['status', '--json']).json;
    assert.deepEqual(st.tasks.find((t: { id: string }) => t.id === 'gen@i2').reasons, ['code of stage gen changed']);
    assert.deepEqual(runOk(toy).executed, ['gen@i1', 'gen@i2', 'gen@i3']);
  });

  it('a code edit that changes outputs propagates to dependents', () => {
    toy.edit('gen', (s) => s.replace('item * (ctx.params.scale as number)', 'item * (ctx.params.scale as number) + 1'));
    assert.deepEqual(runOk(toy).executed, ['gen@i1', 'gen@i2', 'gen@i3', 'square@i1', 'square@i2', 'square@i3', 'total']);
  });

  it('an upstream output a stage does not read never invalidates it', () => {
    toy.edit('square', (s) => s.replaceAll('Buffer.alloc(64, value)', 'Buffer.alloc(65, value)'));
    assert.deepEqual(runOk(toy).executed, ['square@i1', 'square@i2', 'square@i3']);
  });

  it('comment-only and whitespace-only edits invalidate nothing', () => {
    toy.edit('gen', (s) => `// a new header comment\n/* block */\n${s.replace('const item =', '   // explain\n    const   item   =')}\n\n`);
    toy.edit('total', (s) => s.replace('let sum = 0;', 'let sum = 0; // running total'));
    assert.deepEqual(runOk(toy).executed, []);
  });

  it('identical upstream output cuts off: a param that changes no bytes re-runs only its stage', () => {
    toy.writeConfig({ items: [1, 2, 3], scale: 2, note: 'relabelled' });
    const r = runOk(toy);
    assert.deepEqual(r.executed, ['gen@i1', 'gen@i2', 'gen@i3']);
    assert.equal(r.json.cached, 4);
  });

  it('--force re-runs one stage; run STAGE builds only what it needs', () => {
    assert.deepEqual(runOk(toy, ['--force', 'square']).executed, ['square@i1', 'square@i2', 'square@i3']);
    toy.writeConfig({ items: [1, 2, 3, 4], scale: 2 });
    assert.deepEqual(runOk(toy, ['gen']).executed, ['gen@i4']);
  });

  it('--set overrides a config value like an edit of the file', () => {
    assert.deepEqual(runOk(toy, ['--set', 'offset=1']).executed, ['square@i1', 'square@i2', 'square@i3', 'total']);
    assert.deepEqual(runOk(toy, ['--set', 'offset=1']).executed, []);
  });

  it('a flipped byte in a blob is caught before a task reads it (or by --verify), told by name, and its producer recomputed', () => {
    const show = toy.cli(['show', 'square@i2', '--json']).json;
    const blob: string = show.artifacts.value;
    const original = fs.readFileSync(blob);
    const flip = (): void => {
      const bytes = Buffer.from(original);
      bytes[2] ^= 0xff;
      fs.chmodSync(blob, 0o644);
      fs.writeFileSync(blob, bytes);
    };
    const escaped = blob.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    flip();
    // A no-op reads no bytes: nothing here reads the blob, so nothing is told.
    const noop = runOk(toy);
    assert.deepEqual(noop.executed, []);
    assert.doesNotMatch(noop.stderr, /corrupt/);
    // `total` reads it: checked first, set aside, its producer run again, then `total` runs.
    const r = runOk(toy, ['--force', 'total']);
    assert.match(r.stderr, new RegExp(`square@i2: output 'value': .*${escaped} is corrupt`));
    assert.deepEqual(r.executed, ['square@i2', 'total']);
    assert.equal(r.json.executed, 2);
    assert.equal(r.json.cached, 5, 'square@i2 counted once, as executed');
    assert.deepEqual(fs.readFileSync(blob), original, 'recomputed blob has the original bytes again');
    assert.equal(fs.readdirSync(path.join(toy.cache, 'quarantine')).length, 1, 'the corrupt bytes are set aside');
    // --verify checks every cached task's files in a no-op; `results`, which reads the bytes, names it.
    flip();
    const results = toy.cli(['results']);
    assert.notEqual(results.code, 0);
    assert.match(results.stderr, new RegExp(`square@i2: output 'value': blob ${escaped} is corrupt.*run -e default --verify\` sets it aside`));
    const action = (args: string[]): string =>
      toy.cli(['run', '--dry-run', '--json', ...args]).json.tasks.find((t: { id: string }) => t.id === 'square@i2').action;
    assert.equal(action([]), 'use cache');
    assert.equal(action(['--verify']), 'run', '--dry-run --verify plans as run --verify does');
    const verified = runOk(toy, ['--verify']);
    assert.match(verified.stderr, new RegExp(`${escaped} is corrupt`));
    assert.deepEqual(verified.executed, ['square@i2']);
    assert.deepEqual(fs.readFileSync(blob), original);
    assert.deepEqual(runOk(toy, ['--verify']).executed, [], 'an intact store passes --verify with nothing run');
    // A blob gone is noticed by any run (one listing of objects/): its producer runs again.
    fs.rmSync(blob);
    const gone = runOk(toy);
    assert.match(gone.stderr, new RegExp(`${escaped} is missing`));
    assert.deepEqual(gone.executed, ['square@i2']);
    assert.deepEqual(runOk(toy).executed, []);
  });
});

describe('engine: failures, interruptions, concurrency', function () {
  this.timeout(120_000);
  let toy: Toy;
  beforeEach(() => {
    toy = makeToy({ items: [1, 2, 3], scale: 2 });
  });
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('a failing task fails only its dependents; the run goes on and exits non-zero with a summary', () => {
    toy.writeConfig({ items: [1, 2, 3], scale: 2, fail: [2] });
    const r = toy.cli(['run', '--json']);
    assert.equal(r.code, 1);
    const state = Object.fromEntries(r.json.tasks.map((t: { id: string; state: string }) => [t.id, t.state]));
    assert.deepEqual(state, {
      'gen@i1': 'executed', 'gen@i2': 'failed', 'gen@i3': 'executed',
      'square@i1': 'executed', 'square@i2': 'skipped', 'square@i3': 'executed', total: 'skipped',
    });
    assert.equal(r.json.failed, 1);
    assert.match(r.stderr, /failed:\n {2}gen@i2: toy failure for item 2/);
  });

  it('an invalid experiment exits non-zero, names the JSON path, and runs nothing', () => {
    toy.writeConfig({ items: 'abc', scale: 2, bogus: 1 });
    const r = toy.cli(['run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /default\.json: \/items must be array/);
    assert.match(r.stderr, /default\.json: \/ has unknown key 'bogus'/);
    assert.deepEqual(toy.executions(), []);
    assert.deepEqual(records(toy), []);
    toy.writeConfig({ items: [1], scale: 2 });
    const s = toy.cli(['run', '--set', 'scal=3']);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /--set scal=3: \/ has unknown key 'scal'/);
    const t = toy.cli(['run', '--set', 'scale=fast']);
    assert.match(t.stderr, /--set scale=fast: \/scale must be number/);
    assert.equal(toy.cli(['run', '--experiment', 'nope']).stderr.includes("experiment 'nope' not found"), true);
    assert.deepEqual(toy.executions(), []);
  });

  it('SIGKILL mid-task leaves no record; the next run recomputes only what had not finished', async () => {
    const child = toy.spawnCli(['run', '--jobs', '1'], { TOY_SLOW_ITEM: '3', TOY_SLEEP_MS: '60000' });
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(toy.mark)) {
      if (Date.now() > deadline) throw new Error('slow task never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = records(toy).length;
    assert.equal(before, 5, 'gen x3 and square@i1, square@i2 finished before the kill');
    const r = runOk(toy);
    assert.deepEqual(r.executed, ['square@i3', 'total']);
    assert.equal(r.json.cached, 5);
  });

  it('Ctrl-C (SIGINT) stops the workers, exits 130, and keeps every task that finished', async () => {
    const child = toy.spawnCli(['run', '--json', '--jobs', '1'], { TOY_SLOW_ITEM: '3', TOY_SLEEP_MS: '60000' });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(toy.mark)) {
      if (Date.now() > deadline) throw new Error('slow task never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    const started = Date.now();
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 130);
    assert.ok(Date.now() - started < 10_000, 'stopped promptly');
    assert.match(err, /interrupted: stopping workers/);
    const summary = JSON.parse(out);
    assert.equal(summary.executed, 5);
    assert.deepEqual(summary.tasks.filter((t: { state: string }) => t.state === 'interrupted').map((t: { id: string }) => t.id), ['square@i3', 'total']);
    const r = runOk(toy);
    assert.deepEqual(r.executed, ['square@i3', 'total']);
  });

  it('two concurrent runs on one store compute every task exactly once', async () => {
    const env = { TOY_SLOW_ITEM: 'all', TOY_SLEEP_MS: '400' };
    const a = toy.spawnCli(['run', '--jobs', '2', '--json'], env);
    const b = toy.spawnCli(['run', '--jobs', '2', '--json'], env);
    const outs = await Promise.all(
      [a, b].map(
        (c) =>
          new Promise<{ code: number | null; out: string }>((resolve) => {
            let out = '';
            c.stdout!.on('data', (d) => (out += d));
            c.on('exit', (code) => resolve({ code, out }));
          }),
      ),
    );
    for (const o of outs) assert.equal(o.code, 0);
    const counts = new Map<string, number>();
    for (const id of toy.executions()) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.equal(counts.size, 7);
    for (const [id, n] of counts) assert.equal(n, 1, `${id} computed ${n} times`);
    const executed = outs.map((o) => JSON.parse(o.out).executed as number);
    assert.equal(executed[0]! + executed[1]!, 7);
  });

  it('gc removes unreferenced blobs and keeps referenced ones', () => {
    runOk(toy);
    fs.writeFileSync(path.join(toy.cache, 'objects', 'f'.repeat(64)), 'orphan');
    const r = toy.cli(['gc', '--json']);
    assert.equal(r.json.removedBlobs, 1);
    assert.ok(r.json.keptBlobs >= 7);
    assert.deepEqual(runOk(toy).executed, []);
  });

  it('publishes declared artifacts after every run, gives lineage, and keys per-experiment stages by experiment', () => {
    runOk(toy);
    const published = path.join(toy.dir, 'out/default/sum.json');
    const sum = JSON.parse(fs.readFileSync(published, 'utf8'));
    assert.equal(sum.sum, 4 + 16 + 36);
    assert.equal(sum.experiment, 'default');
    assert.deepEqual(sum.upstream, ['gen@i1', 'gen@i2', 'gen@i3', 'square@i1', 'square@i2', 'square@i3']);
    fs.rmSync(published);
    assert.deepEqual(runOk(toy).executed, []);
    assert.equal(JSON.parse(fs.readFileSync(published, 'utf8')).sum, 56, 'restored from the cache');
    fs.copyFileSync(path.join(toy.dir, 'experiments/default.json'), path.join(toy.dir, 'experiments/other.json'));
    assert.deepEqual(runOk(toy, ['--experiment', 'other']).executed, ['total'], 'only the per-experiment stage re-runs');
    assert.equal(JSON.parse(fs.readFileSync(path.join(toy.dir, 'out/other/sum.json'), 'utf8')).experiment, 'other');
  });

  it('a reader that closes the pipe early (| head) ends the output quietly', async () => {
    toy.writeConfig({ items: Array.from({ length: 3000 }, (_, i) => i), scale: 2 });
    const child = toy.spawnCli(['status', '--json']);
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.once('data', () => child.stdout!.destroy());
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0, err);
    assert.doesNotMatch(err, /EPIPE|Unhandled/);
  });

  it('dag prints text, mermaid and dot', () => {
    assert.match(toy.cli(['dag']).stdout, /square\s+3 task\(s\)\s+<- gen/);
    assert.match(toy.cli(['dag', '--format', 'mermaid']).stdout, /gen --> square/);
    assert.match(toy.cli(['dag', '--format', 'dot']).stdout, /"square" -> "total";/);
  });
});
