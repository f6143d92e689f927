// The error vocabulary across the worker boundary: a coded input error keeps its class, code and
// hint from a worker process to the reporter; an interruption is never counted as a failure.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fromWire, InputError, InterruptedError, isInterrupted, toWire } from '../../pipeline/engine/errors.ts';
import type { Executor } from '../../pipeline/engine/executor.ts';
import { buildGraph } from '../../pipeline/engine/graph.ts';
import { Planner } from '../../pipeline/engine/planner.ts';
import { WorkerPool } from '../../pipeline/engine/pool.ts';
import type { Reporter } from '../../pipeline/engine/reporter.ts';
import { runTasks } from '../../pipeline/engine/scheduler.ts';
import { Store } from '../../pipeline/engine/store.ts';
import type { Project } from '../../pipeline/engine/types.ts';
import { FetchError } from '../../stages/fetch/errors.ts';
import { REPO } from './toy.ts';

const PROJECT = `import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Project, StageDecl } from ${JSON.stringify(path.join(REPO, 'pipeline/engine/types.ts'))};
import { InputError } from ${JSON.stringify(path.join(REPO, 'pipeline/engine/errors.ts'))};
const root = path.dirname(fileURLToPath(import.meta.url));
const coded: StageDecl = {
  name: 'coded', module: import.meta.url, params: [], outputs: { v: { kind: 'json' } },
  async run() { throw new InputError('TOY_BAD_INPUT', 'the toy input is bad', { hint: 'fix the toy input' }); },
};
const slow: StageDecl = {
  name: 'slow', module: import.meta.url, params: [], outputs: { v: { kind: 'json' } },
  async run(ctx) { await new Promise((r) => setTimeout(r, 60_000)); await ctx.writeJson('v', 1); },
};
// Small: writes its item, or kills its own worker process (SIGKILL) for the item named 'die'.
const small: StageDecl = {
  name: 'small', module: import.meta.url, params: [], outputs: { v: { kind: 'json' } },
  async run(ctx) {
    if (ctx.axes.item === 'die') process.kill(process.pid, 'SIGKILL');
    await ctx.writeJson('v', { item: ctx.axes.item, pid: process.pid });
  },
};
export const project: Project = {
  name: 'errtoy', module: fileURLToPath(import.meta.url), root, stages: [coded, slow, small],
  experimentsDir: root, defaultExperiment: 'default', experimentSchema: { type: 'object' },
  cacheEnvVar: 'ERRTOY_CACHE', defaultCacheDir: '.cache',
};
`;

interface Ended {
  id: string;
  state: string;
  detail?: string;
}

function recorder(): Reporter & { ended: Ended[]; started: string[] } {
  const ended: Ended[] = [];
  const started: string[] = [];
  const nop = (): void => {};
  return {
    ended, started,
    start: nop, taskProgress: nop, taskLog: nop, warn: nop, interrupted: nop, stop: nop,
    taskStarted: (id) => void started.push(id),
    taskEnded: (id, state, detail) => void ended.push({ id, state, ...(detail === undefined ? {} : { detail }) }),
  };
}

describe('engine: errors across the worker boundary', function () {
  let dir: string;
  let project: Project;
  const planner = (): Planner => new Planner(project, new Store(path.join(dir, 'store'), { command: project.name }), { name: 'default', base: 'default', overrides: {} });
  const tasksOf = (stage: string) => buildGraph(project.stages, {}).tasks.filter((t) => t.stage.name === stage);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-errors-'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
    fs.writeFileSync(path.join(dir, 'project.ts'), PROJECT);
    ({ project } = (await import(pathToFileURL(path.join(dir, 'project.ts')).href)) as { project: Project });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a wire error rebuilds the engine class, with the code, hint and original name', () => {
    const back = fromWire(JSON.parse(JSON.stringify(toWire(new FetchError('CHECKSUM_MISMATCH', 'x.gz: sha256: expected a, got b')))));
    assert.ok(back instanceof InputError);
    assert.equal(back.code, 'CHECKSUM_MISMATCH');
    assert.equal(back.name, 'FetchError');
    assert.ok(isInterrupted(fromWire(toWire(new InterruptedError()))));
    const hinted = fromWire(toWire(new InputError('NO_DATA', 'no data', { hint: 'download it' })));
    assert.ok(hinted instanceof InputError && hinted.hint === 'download it');
  });

  it('a coded error thrown in a worker arrives at the scheduler and the reporter with its class and code', async () => {
    const reporter = recorder();
    const summary = await runTasks(planner(), tasksOf('coded'), { jobs: 1, force: new Set(), reporter });
    assert.equal(summary.failed, 1);
    const t = summary.tasks[0]!;
    assert.equal(t.state, 'failed');
    assert.equal(t.code, 'TOY_BAD_INPUT', t.error);
    assert.match(t.error ?? '', /the toy input is bad \[TOY_BAD_INPUT\]; fix the toy input/);
    assert.deepEqual(reporter.ended.map((e) => e.state), ['failed']);
    assert.match(reporter.ended[0]!.detail ?? '', /\[TOY_BAD_INPUT\]/);
  });

  it('the pool rebuilds an input error as InputError, and a killed worker as an interruption', async () => {
    const pool = new WorkerPool(2, project.module, path.join(dir, 'store'));
    const [coded] = tasksOf('coded');
    const [slow] = tasksOf('slow');
    const assignment = (t: NonNullable<typeof coded>) => ({
      id: t.id, stage: t.stage.name, key: 'a'.repeat(64), axes: t.axes, params: t.params, inputs: {},
      experiment: 'default', baseExperiment: 'default', overrides: {}, lineage: [],
    });
    const events = { progress: () => {}, log: () => {} };
    const e1 = await pool.run(assignment(coded!), events).then(() => undefined, (e: unknown) => e);
    assert.ok(e1 instanceof InputError, String(e1));
    assert.equal(e1.code, 'TOY_BAD_INPUT');
    const running = pool.run(assignment(slow!), events).then(() => undefined, (e: unknown) => e);
    await new Promise((r) => setTimeout(r, 500));
    pool.kill();
    assert.ok(isInterrupted(await running));
  });

  it('small tasks handed to a worker together: each answered; a worker killed by one of them fails that one only, the others run again', async function () {
    this.timeout(60_000);
    const store = path.join(dir, 'store');
    const pool = new WorkerPool(1, project.module, store);
    const [small] = tasksOf('small');
    const assignment = (item: string, key: string) => ({
      id: `small@${item}`, stage: 'small', key, axes: { item }, params: {}, inputs: {},
      experiment: 'default', baseExperiment: 'default', overrides: {}, lineage: [],
    });
    assert.ok(small);
    const events = { progress: () => {}, log: () => {} };
    const value = async (r: { outputs: Record<string, { hash: string }> }) => JSON.parse(fs.readFileSync(path.join(store, 'objects', r.outputs.v!.hash), 'utf8'));
    try {
      // Four at once into one worker: one message; all answered, by the same process.
      const four = await Promise.all(['a', 'b', 'c', 'd'].map((i, n) => pool.run(assignment(i, String(n).repeat(64)), events, undefined, true)));
      const got = await Promise.all(four.map(value));
      assert.deepEqual(got.map((v) => v.item), ['a', 'b', 'c', 'd']);
      assert.equal(new Set(got.map((v) => v.pid)).size, 1, 'one worker ran them');
      // One of four kills its worker: it alone fails; the other three are run again (alone) and answered.
      const settled = await Promise.allSettled(['e', 'die', 'f', 'g'].map((i, n) => pool.run(assignment(i, String(n + 4).repeat(64)), events, undefined, true)));
      assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      assert.match(String((settled[1] as PromiseRejectedResult).reason), /worker process died \(SIGKILL\)/);
      const after = await Promise.all(settled.filter((s) => s.status === 'fulfilled').map((s) => value((s as PromiseFulfilledResult<{ outputs: Record<string, { hash: string }> }>).value)));
      assert.deepEqual(after.map((v) => v.item), ['e', 'f', 'g']);
      assert.ok(!after.some((v) => v.pid === got[0].pid), 'run again on another worker');
    } finally {
      pool.close();
    }
  });

  it('an interruption from an executor ends the task interrupted, not failed', async () => {
    const executor: Executor = {
      writesRecords: false,
      run: () => Promise.reject(new InterruptedError('job cancelled')),
      kill: async () => {},
      close: () => {},
    };
    const reporter = recorder();
    const summary = await runTasks(planner(), tasksOf('slow'), { jobs: 1, force: new Set(), reporter, executor });
    assert.equal(summary.failed, 0);
    assert.equal(summary.interrupted, 1);
    assert.deepEqual(reporter.ended.map((e) => e.state), ['interrupted']);
  });
});
