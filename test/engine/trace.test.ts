// What each task cost and what it logged: resources in its record (measured in the process that
// ran it), its log file in the store, `show`, the `trace` table, and gc of logs; for local
// workers and for the batch-job path (run here as a cluster's job script runs it, without one).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { loadExperiment } from '../../pipeline/engine/config.ts';
import type { ExecJob, ExecResult, Executor } from '../../pipeline/engine/executor.ts';
import { buildGraph } from '../../pipeline/engine/graph.ts';
import { Planner } from '../../pipeline/engine/planner.ts';
import type { TaskRecord } from '../../pipeline/engine/record.ts';
import type { Reporter } from '../../pipeline/engine/reporter.ts';
import { runTasks } from '../../pipeline/engine/scheduler.ts';
import { Store } from '../../pipeline/engine/store.ts';
import { TRACE_COLUMNS } from '../../pipeline/engine/trace.ts';
import type { Project } from '../../pipeline/engine/types.ts';
import { variantOf } from '../../pipeline/engine/variant.ts';
import { makeToy, REPO, type Toy } from './toy.ts';

const MiB = 1024 * 1024;

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema(JSON.parse(fs.readFileSync(path.join(REPO, 'schemas/cli.schema.json'), 'utf8')));
/** `value` is what schemas/cli.schema.json says `--json` of that command gives. */
function conforms(def: string, value: unknown): void {
  const validate = ajv.getSchema(`weakcorr/cli#/$defs/${def}`)!;
  assert.ok(validate(value), `${def}: ${ajv.errorsText(validate.errors)}`);
}

/** Whether this kernel lets a process reset its peak RSS (Linux 4.0+): then every peak is the task's own. */
function canResetPeak(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

// gen@i1 touches 256 MiB and frees it before it ends; gen@i2 spends 0.3 s of its own CPU;
// gen@i3 has a child process spend 0.3 s. square logs two lines (one of two lines).
const HEAVY = `
    if (item === 1) {
      (() => { const big = new Uint8Array(256 * 1048576).fill(1); ctx.log('touched ' + big.length); })();
      (await import('node:v8')).setFlagsFromString('--expose-gc');
      ((await import('node:vm')).runInNewContext('gc') as () => void)();
    }
    if (item === 2) { const end = process.cpuUsage().user + 300000; while (process.cpuUsage().user < end); }
    if (item === 3) (await import('node:child_process')).spawnSync(process.execPath, ['-e', 'const e = process.cpuUsage().user + 300000; while (process.cpuUsage().user < e);']);
`;

function heavyToy(config: Record<string, unknown> = { items: [1, 2, 3], scale: 2 }): Toy {
  const toy = makeToy(config);
  toy.edit('gen', (s) => s.replace('const item = ctx.axes.item as number;\n', `const item = ctx.axes.item as number;\n${HEAVY}`));
  toy.edit('square', (s) => s.replace('note(ctx.id);', "note(ctx.id); ctx.log('squaring ' + ctx.axes.item); ctx.log('first\\nsecond');"));
  return toy;
}

function allRecords(toy: Toy): TaskRecord[] {
  const dir = path.join(toy.cache, 'tasks');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as TaskRecord);
}

/** The records of one experiment, by task id. */
const records = (toy: Toy, experiment = 'default'): Map<string, TaskRecord> => new Map(allRecords(toy).filter((r) => r.experiment === experiment).map((r) => [r.id, r]));

const logPath = (toy: Toy, key: string): string => path.join(toy.cache, 'logs', `${key}.log`);

function parseTsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trimEnd().split('\n');
  const cols = head!.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i]!, v])));
}

describe('engine: per-task resources, task logs and the trace table', function () {
  this.timeout(120_000);
  let toy: Toy;
  afterEach(() => fs.rmSync(toy.dir, { recursive: true, force: true }));

  it('every record holds CPU seconds and peak RSS of its own task; show and trace (tsv, csv, json) give them', () => {
    toy = heavyToy();
    const run = toy.cli(['run', '--jobs', '1', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const recs = records(toy);
    assert.equal(recs.size, 7);
    for (const r of recs.values()) {
      const res = r.resources;
      assert.ok(res, `${r.id}: no resources`);
      assert.ok(Math.abs(res.cpuS - (res.userS + res.sysS)) <= 0.0015, `${r.id}: cpu ${res.cpuS} is not user ${res.userS} + sys ${res.sysS}`);
      // A single-threaded task (plus GC threads) cannot use much more CPU than wall time.
      assert.ok(res.cpuS <= r.durationMs / 1000 + 0.5, `${r.id}: cpu ${res.cpuS}s in ${r.durationMs}ms`);
      // Node with the project loaded, below a few GiB.
      assert.ok(res.peakRssBytes > 20 * MiB && res.peakRssBytes < 4096 * MiB, `${r.id}: peak ${res.peakRssBytes}`);
      assert.ok(fs.existsSync(logPath(toy, r.key)), `${r.id}: no log file`);
    }
    const big = recs.get('gen@i1')!.resources!;
    assert.ok(big.peakRssBytes >= 256 * MiB, `gen@i1 touched 256 MiB, peak ${big.peakRssBytes / MiB} MiB`);
    assert.equal(big.peakRssScope, 'task');
    // The one worker ran every task; gen@i1's peak is not the peak of the tasks after it.
    if (canResetPeak()) {
      for (const r of recs.values()) {
        if (r.id === 'gen@i1') continue;
        assert.equal(r.resources!.peakRssScope, 'task');
        assert.ok(r.resources!.peakRssBytes < big.peakRssBytes - 128 * MiB, `${r.id}: peak ${r.resources!.peakRssBytes / MiB} MiB carries gen@i1's`);
      }
    }
    const busy = recs.get('gen@i2')!.resources!;
    assert.ok(busy.cpuS >= 0.28 && busy.userS >= 0.28, `gen@i2 spent 0.3 s of CPU, recorded ${busy.cpuS}`);
    assert.equal(busy.childCpuS, 0);
    if (process.platform === 'linux') {
      const child = recs.get('gen@i3')!.resources!;
      assert.ok(child.childCpuS >= 0.25 && child.cpuS >= child.childCpuS, `gen@i3's child spent 0.3 s, recorded ${JSON.stringify(child)}`);
    }

    // show: the cost and the log file.
    const sq = recs.get('square@i2')!;
    const show = toy.cli(['show', 'square@i2']);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^cpu {6}\d+\.\d\ds \(user \d+\.\d\ds, system \d+\.\d\ds\), peak rss \d+ MiB$/m);
    assert.ok(show.stdout.includes(`log file ${logPath(toy, sq.key)}`), show.stdout);
    const showJson = toy.cli(['show', 'square@i2', '--json']).json;
    assert.equal(showJson.log, logPath(toy, sq.key));
    assert.deepEqual(showJson.record.resources, sq.resources);

    // trace: one row per task, the records' values, in three formats that agree.
    const tsv = toy.cli(['trace']);
    assert.equal(tsv.code, 0, tsv.stderr);
    assert.deepEqual(tsv.stdout.split('\n')[0]!.split('\t'), [...TRACE_COLUMNS]);
    const rows = parseTsv(tsv.stdout);
    assert.deepEqual(rows.map((r) => r.task).sort(), [...recs.keys()].sort());
    for (const row of rows) {
      const r = recs.get(row.task!)!;
      assert.equal(row.status, 'cached');
      assert.equal(row.key, r.key);
      assert.equal(Number(row.cpu_s), r.resources!.cpuS);
      assert.equal(Number(row.peak_rss_bytes), r.resources!.peakRssBytes);
      assert.equal(Number(row.wall_s), r.durationMs / 1000);
      assert.equal(row.host, r.host);
      assert.equal(row.job, '');
      assert.equal(row.log, logPath(toy, r.key));
    }
    const csv = toy.cli(['trace', '--format', 'csv']).stdout.trimEnd().split('\n');
    assert.equal(csv[0], TRACE_COLUMNS.join(','));
    assert.deepEqual(csv.slice(1).map((l) => l.split(',')), rows.map((r) => TRACE_COLUMNS.map((c) => r[c])));
    const json = toy.cli(['trace', '--format', 'json']);
    assert.equal(json.code, 0, json.stderr);
    conforms('trace', JSON.parse(json.stdout));
    const tasks = JSON.parse(json.stdout).tasks as Record<string, unknown>[];
    assert.deepEqual(tasks.map((t) => t.cpu_s), rows.map((r) => Number(r.cpu_s)));
    assert.equal(toy.cli(['trace', '--format', 'xml']).code, 2);
    // One stage and what it needs.
    assert.deepEqual(parseTsv(toy.cli(['trace', 'gen']).stdout).map((r) => r.task), ['gen@i1', 'gen@i2', 'gen@i3']);
  });

  it("a task's log file holds what it logged; a failed task's log stays and show and trace name it; gc removes logs with their records", () => {
    toy = heavyToy({ items: [1, 2, 3], scale: 2, fail: [3] });
    // gen@i3 fails: its log and no record.
    assert.equal(toy.cli(['run', '--jobs', '1']).code, 1);
    const recs = records(toy);
    const sq = recs.get('square@i2')!;
    const text = fs.readFileSync(logPath(toy, sq.key), 'utf8');
    assert.match(text, /^# task square@i2 \(stage square\), key [0-9a-f]{64}\n# started \S+ on \S+\n\S+Z {2}squaring 2\n\S+Z {2}first\n {4}second\n# \S+ {2}ok in \d+\.\ds, cpu \d+\.\ds, peak rss \d+ MiB\n$/);
    assert.ok(!recs.has('gen@i3'));
    const why = toy.cli(['why', 'gen@i3', '--json']).json;
    const failedLog = logPath(toy, why.key);
    assert.match(fs.readFileSync(failedLog, 'utf8'), /\n# \S+ {2}failed after \d+\.\ds: .*toy failure for item 3\n$/);
    const show = toy.cli(['show', 'gen@i3']);
    assert.notEqual(show.code, 0);
    assert.ok(show.stderr.includes(`its last run failed, log ${failedLog}`), show.stderr);
    const trace = parseTsv(toy.cli(['trace']).stdout);
    assert.deepEqual(
      trace.map((r) => `${r.task}:${r.status}`),
      ['gen@i1:cached', 'gen@i2:cached', 'gen@i3:failed', 'square@i1:cached', 'square@i2:cached', 'square@i3:missing', 'total:missing'],
    );
    assert.equal(trace.find((r) => r.task === 'gen@i3')!.log, failedLog);
    conforms('trace', toy.cli(['trace', '--json']).json);

    // Another config: gc --keep it removes the first config's records, their logs and the failed log.
    const kept = toy.cli(['run', '--jobs', '1', '--set', 'scale=3', '--name', 'three']);
    assert.equal(kept.code, 1, kept.stderr); // gen@i3 fails there too, under another key
    const keptKeys = [...records(toy, 'three').values()].map((r) => r.key);
    assert.equal(keptKeys.length, 4);
    const dry = toy.cli(['gc', '--keep', 'three', '--dry-run', '--json']).json;
    assert.ok(dry.removed.includes(logPath(toy, sq.key)) && dry.removed.includes(failedLog), JSON.stringify(dry.removed));
    assert.ok(fs.existsSync(logPath(toy, sq.key)), 'a dry run removes nothing');
    const gc = toy.cli(['gc', '--keep', 'three', '--json']);
    assert.equal(gc.code, 0, gc.stderr);
    conforms('gc', gc.json);
    // default's records: gen@i1, gen@i2, square@i1, square@i2; logs: theirs and gen@i3's of both configs.
    assert.equal(gc.json.removedRecords, 4);
    assert.equal(gc.json.removedLogs, 6);
    assert.deepEqual(fs.readdirSync(path.join(toy.cache, 'logs')).sort(), keptKeys.map((k) => `${k}.log`).sort());
    const text2 = toy.cli(['gc', '--keep', 'three']).stdout;
    assert.doesNotMatch(text2, /task log/, 'nothing more to remove');
  });

  it('the batch-job path (a cluster job runs it) records resources and writes the task log as a local run does', async () => {
    toy = heavyToy({ items: [1, 2], scale: 2 });
    const project = ((await import(pathToFileURL(path.join(toy.dir, 'project.ts')).href)) as { project: Project }).project;
    const store = new Store(toy.cache, { command: 'toy' });
    const exp = loadExperiment('default', project.experimentsDir, project.experimentSchema);
    const graph = buildGraph(project.stages, exp.config);
    const planner = new Planner(project, store, variantOf('default', [], undefined, ['default']), 'local');
    const jobScript = fileURLToPath(new URL('../../pipeline/engine/executors/slurm/batch-job.ts', import.meta.url));
    let n = 0;
    // What the cluster's job script does, in a process of its own per task: batch-job.ts <dir>.
    const executor: Executor = {
      writesRecords: true,
      async run(job: ExecJob): Promise<ExecResult> {
        const dir = path.join(toy.dir, `batch-${n++}`);
        fs.mkdirSync(dir);
        const el = { projectModule: project.module, command: 'toy', storeDir: store.dir, task: job.task, template: job.template, force: job.force, progressFile: path.join(dir, 'progress.json') };
        fs.writeFileSync(path.join(dir, '0.json'), JSON.stringify(el));
        const env: NodeJS.ProcessEnv = { ...process.env, TOY_LOG: toy.log };
        delete env.SLURM_ARRAY_JOB_ID;
        delete env.SLURM_JOB_ID;
        const r = spawnSync(process.execPath, ['--import', 'tsx', jobScript, dir], { env, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`batch job failed: ${r.stderr}`);
        return { kind: 'record', record: (await store.records.read(job.task.key))! };
      },
      async kill() {},
      close() {},
    };
    const quiet: Reporter = { start() {}, taskStarted() {}, taskProgress() {}, taskLog() {}, taskEnded() {}, warn() {}, interrupted() {}, stop() {} };
    const summary = await runTasks(planner, graph.tasks, { jobs: 1, force: new Set(), reporter: quiet, executor });
    assert.equal(summary.executed, 5, JSON.stringify(summary.tasks));
    const recs = records(toy);
    for (const r of recs.values()) {
      assert.equal(r.executor?.kind, 'slurm');
      assert.ok(r.resources && r.resources.peakRssBytes > 20 * MiB, `${r.id}: ${JSON.stringify(r.resources)}`);
      assert.ok(fs.existsSync(logPath(toy, r.key)), `${r.id}: no log file`);
    }
    assert.ok(recs.get('gen@i1')!.resources!.peakRssBytes >= 256 * MiB);
    assert.ok(recs.get('gen@i2')!.resources!.cpuS >= 0.28);
    assert.match(fs.readFileSync(logPath(toy, recs.get('square@i1')!.key), 'utf8'), /Z {2}squaring 1\n/);
    const row = parseTsv(toy.cli(['trace', 'square']).stdout).find((t) => t.task === 'square@i1')!;
    assert.match(row.job!, /^slurm local-\d+$/);
  });
});
